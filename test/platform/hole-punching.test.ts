import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
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

test('one batch punches every range, hundreds of them: each reads as zeros and frees its blocks, the bytes between stay', async () => {
  const file = join(await tempDir(), 'disk.img');
  const KIB64 = 64 * 1024;
  const original = randomBytes(512 * KIB64);
  writeFileSync(file, original);
  const ranges = Array.from({ length: 300 }, (_, i) => ({ offset: i * KIB64 + KIB64 / 2, length: KIB64 / 4 }));
  const before = statSync(file).blocks;
  await punchHoles(await requireTool('fallocate', 'util-linux'), file, ranges);
  const after = readFileSync(file);
  const expected = Buffer.from(original);
  for (const r of ranges) expected.fill(0, r.offset, r.offset + r.length);
  assert.equal(after.length, original.length, 'the file keeps its size');
  assert.ok(after.equals(expected), 'the ranges read as zeros and nothing else changed');
  // (ext4 may keep a few blocks more for the extent tree the holes split.)
  assert.ok(before - statSync(file).blocks >= (0.9 * 300 * (KIB64 / 4)) / 512, 'the ranges no longer hold blocks');
});

test('a batch stops at the first range fallocate refuses: the ranges after it are not punched, and the error says how far it got', async () => {
  const file = join(await tempDir(), 'disk.img');
  const KIB64 = 64 * 1024;
  const original = randomBytes(8 * KIB64);
  writeFileSync(file, original);
  // Past the largest file the filesystem allows: fallocate(2) fails with EFBIG before touching anything.
  const refused = { offset: 2 ** 62, length: KIB64 };
  const ranges = [{ offset: 0, length: KIB64 }, refused, { offset: 4 * KIB64, length: KIB64 }];
  await assert.rejects(punchHoles(await requireTool('fallocate', 'util-linux'), file, ranges), {
    code: 'INTERNAL',
    message: /failed after 1 of 3 ranges: .*File too large/s,
  });
  const after = readFileSync(file);
  assert.ok(after.subarray(0, KIB64).equals(Buffer.alloc(KIB64)), 'the range before the refused one was punched');
  assert.ok(after.subarray(4 * KIB64, 5 * KIB64).equals(original.subarray(4 * KIB64, 5 * KIB64)), 'the range after it was not');
  assert.ok(after.subarray(KIB64).subarray(0, 3 * KIB64).equals(original.subarray(KIB64, 4 * KIB64)));
});
