import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageFileWriter } from '../../src/platform/local/image-file-writer.js';
import { findTool, requireTool } from '../../src/platform/local/external-tool.js';
import { tempDir } from './local-fixtures.js';

const MIB = 1024 * 1024;

async function imageOf(size: number): Promise<string> {
  const path = join(await tempDir(), 'disk.img');
  const fh = await open(path, 'w');
  await fh.truncate(size);
  await fh.close();
  return path;
}

const pattern = (len: number, seed: number) => Buffer.from(Array.from({ length: len }, (_, i) => ((i * 31 + seed) % 255) + 1));

test('writes land at their offsets, out of order, and the file keeps its size', async () => {
  const path = await imageOf(8 * MIB);
  const w = await ImageFileWriter.open(path, await findTool('fallocate'));
  await w.write(5 * MIB, pattern(MIB, 5));
  await w.write(1 * MIB + 123, pattern(1000, 1));
  await w.sync();
  await w.close();
  const bytes = await readFile(path);
  assert.equal(bytes.length, 8 * MIB);
  assert.deepEqual(bytes.subarray(5 * MIB, 6 * MIB), pattern(MIB, 5));
  assert.deepEqual(bytes.subarray(MIB + 123, MIB + 1123), pattern(1000, 1));
  assert.ok(bytes.subarray(0, MIB + 123).every((b) => b === 0));
});

test('zero() punches holes: the range reads as zeros and its blocks are freed', async () => {
  // The suite requires util-linux (scripts/preflight.mjs): a missing fallocate fails, it does not skip.
  const fallocate = await requireTool('fallocate', 'util-linux');
  const path = await imageOf(8 * MIB);
  const w = await ImageFileWriter.open(path, fallocate);
  for (let i = 0; i < 8; i++) await w.write(i * MIB, pattern(MIB, i));
  await w.sync();
  const full = (await stat(path)).blocks;
  assert.ok(full >= (8 * MIB) / 512, `fully written: ${full} blocks`);

  await w.zero(2 * MIB, MIB);
  await w.zero(3 * MIB, 2 * MIB); // adjacent: coalesced into one punch
  await w.sync();
  const after = (await stat(path)).blocks;
  assert.ok(full - after >= (3 * MIB) / 512, `3 MiB freed: ${full} -> ${after} blocks`);
  await w.close();

  const bytes = await readFile(path);
  assert.ok(bytes.subarray(2 * MIB, 5 * MIB).every((b) => b === 0));
  assert.deepEqual(bytes.subarray(MIB, 2 * MIB), pattern(MIB, 1));
  assert.deepEqual(bytes.subarray(5 * MIB, 6 * MIB), pattern(MIB, 5));
  assert.equal((await stat(path)).size, 8 * MIB);
});

test('a write over a pending zero range comes after the zeroing', async () => {
  const path = await imageOf(4 * MIB);
  const w = await ImageFileWriter.open(path, await findTool('fallocate'));
  await w.write(0, pattern(2 * MIB, 7));
  await w.zero(0, 2 * MIB);
  await w.write(MIB, pattern(100, 9));
  await w.close();
  const bytes = await readFile(path);
  assert.deepEqual(bytes.subarray(MIB, MIB + 100), pattern(100, 9));
  assert.ok(bytes.subarray(0, MIB).every((b) => b === 0));
  assert.ok(bytes.subarray(MIB + 100, 2 * MIB).every((b) => b === 0));
});

test('without fallocate, zero() writes zeros', async () => {
  const path = await imageOf(2 * MIB);
  const w = await ImageFileWriter.open(path, undefined);
  await w.write(0, pattern(2 * MIB, 3));
  await w.zero(100, MIB);
  await w.close();
  const bytes = await readFile(path);
  assert.ok(bytes.subarray(100, MIB + 100).every((b) => b === 0));
  assert.deepEqual(bytes.subarray(0, 100), pattern(2 * MIB, 3).subarray(0, 100));
  assert.deepEqual(bytes.subarray(MIB + 100), pattern(2 * MIB, 3).subarray(MIB + 100));
});

test('writes and zeroes past the end of the disk are BAD_REQUEST', async () => {
  const path = await imageOf(MIB);
  const w = await ImageFileWriter.open(path, undefined);
  await assert.rejects(w.write(MIB - 1, Buffer.alloc(2)), { code: 'BAD_REQUEST' });
  await assert.rejects(w.zero(0, MIB + 1), { code: 'BAD_REQUEST' });
  await w.close();
});
