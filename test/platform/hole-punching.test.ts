import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { punchHoles } from '../../src/platform/local/hole-punching.js';
import { requireTool } from '../../src/platform/local/external-tool.js';
import { tempDir } from './local-fixtures.js';

test('a hole punch that fails is a catalogue error naming the file, not a bare Error', async () => {
  const missing = join(await tempDir(), 'no-such.img');
  await assert.rejects(punchHoles(await requireTool('fallocate', 'util-linux'), missing, [{ offset: 0, length: 4096 }]), {
    code: 'INTERNAL',
    message: new RegExp(`punching holes in ${missing} failed`),
  });
});
