import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE, type BlockSource, type Extent } from '../../src/disks/block-source.js';
import { ImageFileSource } from '../../src/disks/image-file-source.js';
import { hashBlock } from '../../src/repository/block-hash.js';
import { openRepository } from '../../src/repository/open-repository.js';
import { tempDir } from './repository-fixtures.js';

const BLOCKS = 64;

/** This process's read calls and bytes read so far, every thread (the codec workers too): /proc/self/io. */
function processReads(): { calls: number; bytes: number } {
  const io = Object.fromEntries(readFileSync('/proc/self/io', 'utf8').trim().split('\n').map((l) => l.split(': ')));
  return { calls: Number(io.syscr), bytes: Number(io.rchar) };
}

test('QuickRollback hashes a local image in large reads that run on through short holes, and closes what it opened', async () => {
  const dir = await tempDir();
  const path = join(dir.path, 'disk.img');
  // The bench disk's shape: every fourth block a hole, so the extents are runs of three blocks.
  const fh = await open(path, 'w');
  const extents: Extent[] = [];
  const expected: (string | null)[] = [];
  for (let i = 0; i < BLOCKS; i++) {
    if (i % 4 === 3) {
      expected.push(null);
      continue;
    }
    const block = randomBytes(BLOCK_SIZE);
    await fh.write(block, 0, BLOCK_SIZE, i * BLOCK_SIZE);
    if (i % 4 === 0) extents.push({ offset: i * BLOCK_SIZE, length: 3 * BLOCK_SIZE });
    expected.push(hashBlock('blake3', block));
  }
  await fh.truncate(BLOCKS * BLOCK_SIZE);
  await fh.close();
  const image = await ImageFileSource.open(path);
  const source: BlockSource = { size: image.size, localFile: image.localFile, read: (o, l) => image.read(o, l), allocatedExtents: async () => extents, close: async () => {} };
  const repo = await openRepository(join(dir.path, 'repo'), { create: true, hash: 'blake3' });
  try {
    const hashAll = async () => {
      const got: (string | null)[] = new Array(BLOCKS).fill(null);
      const reported = new Set<number>();
      await repo.hashSource(source, ({ firstBlock, hashes }) => {
        hashes.forEach((h, i) => {
          assert.ok(!reported.has(firstBlock + i), `block ${firstBlock + i} is reported once`);
          reported.add(firstBlock + i);
          got[firstBlock + i] = h;
        });
      });
      return got;
    };
    // The first run starts the workers (which read their own code); the second is measured.
    assert.deepEqual(await hashAll(), expected);
    const fdsBefore = readdirSync('/proc/self/fd').length;
    const before = processReads();
    assert.deepEqual(await hashAll(), expected);
    const after = processReads();
    const calls = after.calls - before.calls;
    const bytes = after.bytes - before.bytes;
    // 63 MiB (the one-block holes between extents read as zeros, the last one not) in 4 MiB reads: 16 calls, plus
    // the few small reads of the threads' message wake-ups and of /proc itself (29 in all here). Reading each
    // 3-block extent in 256 KiB pieces took 216 calls (192 of them the pieces), 0.22 MiB per call.
    assert.ok(calls <= 48, `${calls} read calls for ${BLOCKS} MiB`);
    assert.ok(bytes / calls >= 1024 * 1024, `${(bytes / calls / 1024).toFixed(0)} KiB per read call`);
    assert.equal(readdirSync('/proc/self/fd').length, fdsBefore, 'every descriptor the scan opened is closed');
  } finally {
    await repo.close();
    await image.close();
    await dir.cleanup();
  }
});
