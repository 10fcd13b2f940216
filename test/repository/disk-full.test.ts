import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import type { BlobStore } from '../../src/repository/blob-store.js';
import { openRepository } from '../../src/repository/open-repository.js';
import { LocalBlobStore } from '../../src/repository/stores/local/local-blob-store.js';
import { backUpImage, tempDir, writeImage } from './repository-fixtures.js';

/** A local store whose disk "fills up" after `budget` bytes of puts, failing like the kernel does. */
class FillingStore extends LocalBlobStore implements BlobStore {
  constructor(location: string, public budget: number) {
    super(location);
  }
  override async put(key: string, data: Buffer | readonly Buffer[]): Promise<void> {
    const size = (Buffer.isBuffer(data) ? [data] : data).reduce((n, b) => n + b.length, 0);
    this.budget -= size;
    if (this.budget < 0) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${key}'`), { code: 'ENOSPC', errno: -28 });
    return super.put(key, data);
  }
}

test('a full disk during backup fails with NO_SPACE, leaves no restore point, and the repository stays usable', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const repoPath = join(dir.path, 'repo');
  await (await openRepository(repoPath, { create: true })).close();
  const image = join(dir.path, 'big.img');
  await writeImage(image, Array.from({ length: 24 }, () => 'random' as const));

  const store = new FillingStore(repoPath, 10 * BLOCK_SIZE);
  const repo = await openRepository(repoPath, { store, packSize: 4 * BLOCK_SIZE });
  await assert.rejects(backUpImage(repo, 'vm-full', image), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'NO_SPACE');
    assert.match(e.message, /out of space/);
    return true;
  });
  assert.deepEqual(await repo.listManifests(), []);
  const checked = await repo.check({ readData: true });
  assert.deepEqual(checked.problems, []);
  assert.ok((checked.unreferencedPacks ?? []).length > 0, 'the packs written before the disk filled are orphans');

  // Space comes back: the lock was released and the next backup succeeds.
  store.budget = Number.MAX_SAFE_INTEGER;
  const { manifest } = await backUpImage(repo, 'vm-full', image);
  assert.equal((await repo.listManifests()).length, 1);
  assert.equal(manifest.disks[0].blocks.filter((h) => h).length, 24);
  assert.deepEqual((await repo.check({ readData: true })).problems, []);
  await repo.close();
});
