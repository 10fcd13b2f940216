import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { qcow2Bitmaps } from '../../../src/platform/kvm/qcow2-bitmaps.js';
import { tempDir } from '../local-fixtures.js';

test('a disabled (not auto) dirty bitmap is no change tracking: only enabled, cleanly stored bitmaps count', async () => {
  const image = join(await tempDir(), 'd.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '8M']);
  execFileSync('qemu-img', ['bitmap', '--add', '--enable', '-f', 'qcow2', image, 'on']);
  execFileSync('qemu-img', ['bitmap', '--add', '--disable', '-f', 'qcow2', image, 'off']);
  assert.deepEqual(await qcow2Bitmaps(image), ['on']);
});
