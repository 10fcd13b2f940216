// Migrations land from parallel work in any order: a store that has later migrations applied but not an earlier one
// (here: 004 unapplied after 006 and 007 ran) applies it at its next open instead of refusing to open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/state/open-store.js';

test('a migration missing between applied ones is applied at the next open', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'openem-migrations-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await openStore({ dataDir });
  await first.db.schema.dropTable('backup_task_sessions').execute();
  await first.db.schema.dropTable('backup_job_sessions').execute();
  await first.db.deleteFrom('openem_migrations' as never).where('name' as never, '=', '004_backup_sessions' as never).execute();
  await first.close();

  const again = await openStore({ dataDir });
  t.after(() => again.close());
  const names = (await again.db.selectFrom('openem_migrations' as never).select('name' as never).execute()).map((r) => (r as { name: string }).name);
  assert.ok(names.includes('004_backup_sessions') && names.includes('007_drop_cancel_requested'), names.join(', '));
  assert.deepEqual(await again.db.selectFrom('backup_job_sessions').selectAll().execute(), []);
});
