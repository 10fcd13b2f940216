import assert from 'node:assert/strict';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import type { BlobStore } from '../../src/repository/blob-store.js';
import { openRepository } from '../../src/repository/open-repository.js';
import type { RepositoryDiskSource } from '../../src/repository/repository-disk-source.js';
import { LocalBlobStore } from '../../src/repository/stores/local/local-blob-store.js';
import { backUpImage, tempDir, writeImage, type BlockKind } from './repository-fixtures.js';

/** A local store that counts the ranged reads of packs. */
function countingStore(path: string): { store: BlobStore; packGets: () => number } {
  const inner = new LocalBlobStore(path);
  let gets = 0;
  const store: BlobStore = {
    location: inner.location,
    put: (k, d) => inner.put(k, d),
    get: (k, r) => {
      if (k.startsWith('packs/')) gets++;
      return inner.get(k, r);
    },
    stat: (k) => inner.stat(k),
    exists: (k) => inner.exists(k),
    list: (p) => inner.list(p),
    delete: (k) => inner.delete(k),
  };
  return { store, packGets: () => gets };
}

/** 4 KiB from the middle of every block at once, as a listing asks for a folder's scattered directory blocks. */
function smallReadInEachBlock(disk: RepositoryDiskSource, blocks: number): Promise<Buffer>[] {
  return Array.from({ length: blocks }, (_, i) => disk.read(i * BLOCK_SIZE + BLOCK_SIZE / 2, 4096));
}

test('blocks asked for together are read from their pack in a few ranged reads, each decoded once, only their pieces kept', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const { store, packGets } = countingStore(join(dir.path, 'repo'));
  const repo = await openRepository(join(dir.path, 'repo'), { create: true, store });
  t.after(() => repo.close());
  const kinds: BlockKind[] = Array.from({ length: 24 }, (_, i) => (i % 5 === 0 ? 'random' : 'text'));
  const image = join(dir.path, 'disk.img');
  await writeImage(image, kinds);
  const { manifest } = await backUpImage(repo, 'vm-batch', image);
  const bytes = await readFile(image);
  const expect = (got: Buffer[]) =>
    got.forEach((b, i) => assert.ok(b.equals(bytes.subarray(i * BLOCK_SIZE + BLOCK_SIZE / 2, i * BLOCK_SIZE + BLOCK_SIZE / 2 + 4096)), `block ${i}`));

  const disk = (await repo.openDisk(manifest, 'disk0')) as RepositoryDiskSource;
  t.after(() => disk.close());
  const before = packGets();
  const pieces = await Promise.all(smallReadInEachBlock(disk, kinds.length));
  expect(pieces);
  assert.equal(disk.blocksLoaded, kinds.length, 'each block decoded once');
  // One pack holds them all, in disk order: 8 neighbours a read (one read a block before).
  assert.equal(packGets() - before, kinds.length / 8, `${packGets() - before} pack reads for ${kinds.length} blocks`);
  assert.equal(disk.packReads, kinds.length / 8);
  // Read for the first time, each block was decoded and verified in a worker and only the 4 KiB piece came back.
  assert.equal(disk.blocksSliced, kinds.length);
  assert.equal(disk.cachedBlocks, 0);
  pieces.forEach((b, i) => assert.equal(b.buffer.byteLength, 4096, `block ${i}'s piece holds ${b.buffer.byteLength} bytes`));

  // Read a second time, each block is loaded whole (still 8 a read) and kept, so the third time reads nothing.
  const again = await Promise.all(smallReadInEachBlock(disk, kinds.length));
  expect(again);
  assert.equal(disk.blocksLoaded, 2 * kinds.length);
  assert.equal(disk.cachedBlocks, kinds.length);
  assert.equal(packGets() - before, (2 * kinds.length) / 8);
  // A block kept in the cache holds its own memory, not the whole range it was read with (raw blocks are views).
  again.forEach((b, i) => assert.equal(b.buffer.byteLength, BLOCK_SIZE, `block ${i} (${kinds[i]}) holds ${b.buffer.byteLength} bytes`));
  expect(await Promise.all(smallReadInEachBlock(disk, kinds.length)));
  assert.equal(disk.blocksLoaded, 2 * kinds.length);
  assert.equal(packGets() - before, (2 * kinds.length) / 8);
});

test('a corrupt block read in a batch fails only the reads of that block', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const repoPath = join(dir.path, 'repo');
  const repo = await openRepository(repoPath, { create: true });
  t.after(() => repo.close());
  const kinds: BlockKind[] = ['random', 'text', 'text', 'random', 'text'];
  const image = join(dir.path, 'disk.img');
  await writeImage(image, kinds);
  const { manifest } = await backUpImage(repo, 'vm-corrupt', image);
  const bytes = await readFile(image);
  const [sub] = await readdir(join(repoPath, 'packs'));
  const [packFile] = await readdir(join(repoPath, 'packs', sub));
  const fh = await open(join(repoPath, 'packs', sub, packFile), 'r+');
  const spot = Buffer.alloc(1);
  await fh.read(spot, 0, 1, 8 + BLOCK_SIZE / 2); // inside the first block, stored raw
  spot[0] ^= 0xff;
  await fh.write(spot, 0, 1, 8 + BLOCK_SIZE / 2);
  await fh.close();

  const disk = (await repo.openDisk(manifest, 'disk0')) as RepositoryDiskSource;
  t.after(() => disk.close());
  const results = await Promise.allSettled(smallReadInEachBlock(disk, kinds.length));
  assert.equal(results[0].status, 'rejected');
  assert.equal((results[0] as PromiseRejectedResult).reason.code, 'CORRUPT');
  assert.match((results[0] as PromiseRejectedResult).reason.message, new RegExp(`block ${manifest.disks[0].blocks[0]} in pack`));
  for (let i = 1; i < kinds.length; i++) {
    assert.equal(results[i].status, 'fulfilled', `block ${i}`);
    const at = i * BLOCK_SIZE + BLOCK_SIZE / 2;
    assert.ok((results[i] as PromiseFulfilledResult<Buffer>).value.equals(bytes.subarray(at, at + 4096)), `block ${i}`);
  }
  // Read again, the corrupt block is loaded whole this time: it fails the same way, the others still read.
  const again = await Promise.allSettled(smallReadInEachBlock(disk, kinds.length));
  assert.equal(again[0].status, 'rejected');
  assert.equal((again[0] as PromiseRejectedResult).reason.code, 'CORRUPT');
  assert.deepEqual(again.slice(1).map((r) => r.status), kinds.slice(1).map(() => 'fulfilled'));
});
