import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { openRepository } from '../../src/repository/open-repository.js';
import type { RepositoryDiskSource } from '../../src/repository/repository-disk-source.js';
import { backUpImage, tempDir, writeImage, type BlockKind } from './repository-fixtures.js';

test('openDisk serves random small and block-crossing reads equal to the image bytes', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const repo = await openRepository(join(dir.path, 'repo'), { create: true });
  t.after(() => repo.close());
  const kinds: BlockKind[] = ['random', 'text', 'zero', 'text', 'random', 'zero', 'random', 'text'];
  const image = join(dir.path, 'disk.img');
  const size = kinds.length * BLOCK_SIZE - 777;
  await writeImage(image, kinds, size);
  const bytes = await readFile(image);
  const { manifest } = await backUpImage(repo, 'vm-od', image);

  const disk = (await repo.openDisk(manifest, 'disk0')) as RepositoryDiskSource;
  assert.equal(disk.size, size);
  for (let i = 0; i < 2000; i++) {
    const offset = randomInt(0, size) & ~4095;
    const got = await disk.read(offset, 4096);
    assert.ok(got.equals(bytes.subarray(offset, offset + 4096)), `4 KiB at ${offset}`);
  }
  // 2000 small reads inside 8 blocks, 2 of them holes: each stored block is decoded from its pack for its first
  // piece, then once more whole and cached.
  const stored = kinds.filter((k) => k !== 'zero').length;
  assert.ok(disk.blocksLoaded <= 2 * stored, `${disk.blocksLoaded} blocks fetched for 2000 reads of ${stored} stored blocks`);
  for (let i = 0; i < 50; i++) {
    const offset = randomInt(0, size);
    const length = randomInt(1, 3 * BLOCK_SIZE);
    assert.ok((await disk.read(offset, length)).equals(bytes.subarray(offset, offset + length)), `${length} bytes at ${offset}`);
  }
  assert.equal((await disk.read(size - 10, 100)).length, 10, 'reads past the end are cut');
  assert.deepEqual(await disk.allocatedExtents(), [
    { offset: 0, length: 2 * BLOCK_SIZE },
    { offset: 3 * BLOCK_SIZE, length: 2 * BLOCK_SIZE },
    { offset: 6 * BLOCK_SIZE, length: 2 * BLOCK_SIZE - 777 },
  ]);
  await disk.close();
  await assert.rejects(repo.openDisk(manifest, 'nope'), { code: 'NOT_FOUND' });
});
