import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { putBackInterruptedPermissionRestores } from '../../../src/services/guest-restore/permissions-journal.js';
import { cleanupOf } from '../../helpers/cleanup.js';
import { openTestApp } from '../restore-vm/restore-fixtures.js';

test('a journal that cannot be read keeps the start from failing and stays where it is', async (t) => {
  const { ctx, dataDir } = await openTestApp(cleanupOf(t));
  const journal = join(dataDir, 'permissions-journal', '00000000-0000-4000-8000-000000000000.json');
  await mkdir(join(dataDir, 'permissions-journal'), { recursive: true });
  await writeFile(journal, '{"sessionId": "00000000-0000-4000-8000-0000');
  await putBackInterruptedPermissionRestores(ctx);
  assert.equal(await readFile(journal, 'utf8'), '{"sessionId": "00000000-0000-4000-8000-0000', 'kept for a look, untouched');
});
