import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import type { BlobStore } from '../../src/repository/blob-store.js';
import { openRepository } from '../../src/repository/open-repository.js';
import { LocalBlobStore } from '../../src/repository/stores/local/local-blob-store.js';
import { backUpImage, restoreToBuffer, tempDir, writeImage, type BlockKind } from './repository-fixtures.js';

/** A local store that takes its time with packs and records how the backup hands them over. */
class WatchedStore extends LocalBlobStore implements BlobStore {
  packPuts = 0;
  inFlight = 0;
  mostInFlight = 0;
  /** The memory the packs' bytes were in (every part but the trailer, which is made when the pack is sealed). */
  readonly packMemory = new Set<ArrayBufferLike>();
  override async put(key: string, data: Buffer | readonly Buffer[]): Promise<void> {
    if (!key.startsWith('packs/')) return super.put(key, data);
    this.packPuts++;
    const parts = Buffer.isBuffer(data) ? [data] : data;
    for (const part of parts.slice(0, -1)) this.packMemory.add(part.buffer);
    this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight);
    try {
      // A slow disk: the backup must wait for it rather than fill more packs in memory.
      await new Promise((r) => setTimeout(r, 20));
      return await super.put(key, data);
    } finally {
      this.inFlight--;
    }
  }
}

test('a backup holds two pack buffers whatever its size: one pack written at a time, the buffers reused, the data intact', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const repoPath = join(dir.path, 'repo');
  await (await openRepository(repoPath, { create: true })).close();
  const image = join(dir.path, 'disk.img');
  const kinds: BlockKind[] = Array.from({ length: 48 }, (_, i) => (['random', 'text', 'random', 'zero'] as const)[i % 4]);
  await writeImage(image, kinds);

  const store = new WatchedStore(repoPath);
  const repo = await openRepository(repoPath, { store, packSize: 4 * BLOCK_SIZE });
  t.after(() => repo.close());
  const { manifest } = await backUpImage(repo, 'vm-packs', image);
  assert.ok(store.packPuts >= 4, `${store.packPuts} packs written`);
  assert.equal(store.mostInFlight, 1, 'one pack is written at a time');
  assert.ok(store.packMemory.size <= 2, `pack bytes came from ${store.packMemory.size} buffers, not from one per pack`);
  assert.deepEqual((await repo.check({ readData: true })).problems, []);
  assert.ok((await restoreToBuffer(repo, manifest)).equals(await readFile(image)), 'the restore point reads back as the image');
});
