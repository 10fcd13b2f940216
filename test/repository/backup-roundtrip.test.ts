import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { hashBlock } from '../../src/repository/block-hash.js';
import { backUpImage, restoreToBuffer, writeImage, type BlockKind } from './repository-fixtures.js';
import { temporaryRepositoryPerFile } from '../helpers/temporary-repository.js';

const tmp = temporaryRepositoryPerFile();

test('a backed-up image restores byte for byte through fetchBlocks, zero blocks as holes', async () => {
  const kinds: BlockKind[] = Array.from({ length: 24 }, (_, i) => (['random', 'text', 'zero'] as const)[i % 3]);
  const image = join(tmp.dir, 'a.img');
  const size = 24 * BLOCK_SIZE - 12345; // a last block shorter than 1 MiB
  await writeImage(image, kinds, size);
  const { manifest, stats } = await backUpImage(tmp.repo, 'vm-a', image);

  const disk = manifest.disks[0];
  assert.equal(disk.size, size);
  assert.equal(disk.blocks.length, 24);
  kinds.forEach((k, i) => assert.equal(disk.blocks[i] === null, k === 'zero', `block ${i} (${k})`));
  assert.equal(stats.blocksZero, 8);
  assert.equal(stats.blocksNew, 16);
  assert.ok(stats.bytesStored < 16 * BLOCK_SIZE, 'text blocks are stored compressed');

  const restored = await restoreToBuffer(tmp.repo, manifest);
  assert.ok(restored.equals(await readFile(image)));
  assert.deepEqual(await tmp.repo.readManifest(manifest.id), manifest);
  assert.deepEqual((await tmp.repo.listManifests()).map((m) => m.id), [manifest.id]);
});

test('a new repository names blocks by BLAKE3, and hashBlocks returns the BLAKE3 of each buffer', async () => {
  const config = JSON.parse(await readFile(join(tmp.dir, 'repo', 'config.json'), 'utf8'));
  assert.equal(config.hash, 'blake3');
  const bufs = [Buffer.from('abc'), Buffer.alloc(BLOCK_SIZE, 7), Buffer.alloc(0)];
  const hashes = await tmp.repo.hashBlocks(bufs);
  // BLAKE3("abc") and BLAKE3("") from the BLAKE3 specification's test vectors.
  assert.equal(hashes[0], '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85');
  assert.equal(hashes[2], 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
  assert.equal(hashes[1], hashBlock('blake3', bufs[1]));
});
