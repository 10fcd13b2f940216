import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE, type BlockSource } from '../../src/disks/block-source.js';
import { ImageFileSource } from '../../src/disks/image-file-source.js';
import { openRepository } from '../../src/repository/open-repository.js';
import type { Repository } from '../../src/repository/repository.js';
import { backUpImage, restoreToBuffer, tempDir, writeImage, type BlockKind } from './repository-fixtures.js';

const kinds: BlockKind[] = ['random', 'zero', 'text', 'random', 'zero', 'zero', 'text', 'random', 'text'];
const size = kinds.length * BLOCK_SIZE - 4321; // a short last block

/** Every block hash of `source` through Repository.hashSource, in disk order; blocks not reported are holes (null). */
async function hashesOf(repo: Repository, source: BlockSource): Promise<(string | null)[]> {
  const out: (string | null)[] = new Array(Math.ceil(source.size / BLOCK_SIZE)).fill(null);
  const reported = new Set<number>();
  await repo.hashSource(source, ({ firstBlock, hashes }) => {
    hashes.forEach((h, i) => {
      assert.ok(!reported.has(firstBlock + i), `block ${firstBlock + i} is reported once`);
      reported.add(firstBlock + i);
      out[firstBlock + i] = h;
    });
  });
  return out;
}

/** The same image behind the plain BlockSource interface, so hashSource takes its shared-buffer path. */
function plainSource(image: ImageFileSource): BlockSource {
  return { size: image.size, read: (o, l) => image.read(o, l), allocatedExtents: () => image.allocatedExtents(), close: async () => {} };
}

test('a repository created with SHA-256 keeps naming, verifying and comparing blocks by SHA-256', async () => {
  const dir = await tempDir();
  try {
    const image = join(dir.path, 'a.img');
    await writeImage(image, kinds, size);
    let repo = await openRepository(join(dir.path, 'repo'), { create: true, hash: 'sha256', packSize: 4 * BLOCK_SIZE });
    const { manifest } = await backUpImage(repo, 'vm-a', image);
    await repo.close();
    assert.equal(JSON.parse(await readFile(join(dir.path, 'repo', 'config.json'), 'utf8')).hash, 'sha256');

    // Reopened without saying which hash: the config decides.
    repo = await openRepository(join(dir.path, 'repo'), { hash: 'blake3' });
    try {
      const bytes = await readFile(image);
      const expected = kinds.map((k, i) => (k === 'zero' ? null : createHash('sha256').update(bytes.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE)).digest('hex')));
      assert.deepEqual(manifest.disks[0].blocks, expected);
      assert.ok((await restoreToBuffer(repo, manifest)).equals(bytes));
      const check = await repo.check({ readData: true });
      assert.deepEqual(check.problems, []);
      const source = await ImageFileSource.open(image);
      try {
        assert.deepEqual(await hashesOf(repo, source), expected);
      } finally {
        await source.close();
      }
    } finally {
      await repo.close();
    }
  } finally {
    await dir.cleanup();
  }
});

test('hashSource gives the manifest block ids of a disk, null for zero blocks and holes, from an image file and from any block source', async () => {
  const dir = await tempDir();
  try {
    const image = join(dir.path, 'b.img');
    await writeImage(image, kinds, size);
    // A zero block written as data, not as a hole: found by reading, not by the extent map.
    const fh = await open(image, 'r+');
    await fh.write(Buffer.alloc(BLOCK_SIZE), 0, BLOCK_SIZE, 4 * BLOCK_SIZE);
    await fh.close();
    const repo = await openRepository(join(dir.path, 'repo'), { create: true });
    try {
      const { manifest } = await backUpImage(repo, 'vm-b', image);
      const source = await ImageFileSource.open(image);
      try {
        assert.deepEqual(await hashesOf(repo, source), manifest.disks[0].blocks);
        assert.deepEqual(await hashesOf(repo, plainSource(source)), manifest.disks[0].blocks);
      } finally {
        await source.close();
      }
    } finally {
      await repo.close();
    }
  } finally {
    await dir.cleanup();
  }
});
