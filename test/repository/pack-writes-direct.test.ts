import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { PAGE_SIZE } from '../../src/disks/aligned-memory.js';
import { openRepository } from '../../src/repository/open-repository.js';
import { backUpImage, restoreToBuffer, tempDir, writeImage, type BlockKind } from './repository-fixtures.js';

/** Bytes of `file` in the page cache (util-linux fincore). */
function cachedBytes(file: string): number {
  return Number(execFileSync('fincore', ['--noheadings', '--bytes', '--output', 'RES', file], { encoding: 'utf8' }).trim());
}

/** Whether files in `dir` can be opened with O_DIRECT (not on tmpfs). */
async function acceptsDirect(dir: string): Promise<boolean> {
  const probe = join(dir, 'direct-probe');
  try {
    await (await open(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT)).close();
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EINVAL') return false;
    throw e;
  } finally {
    await rm(probe, { force: true });
  }
}

test('a backup writes its packs past the page cache: only the last partial page of a pack is cached, and the packs read back and check', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const image = join(dir.path, 'disk.img');
  const kinds: BlockKind[] = Array.from({ length: 24 }, (_, i) => (['random', 'text', 'random', 'zero'] as const)[i % 4]);
  await writeImage(image, kinds);
  const repoPath = join(dir.path, 'repo');
  const repo = await openRepository(repoPath, { create: true, packSize: 4 * BLOCK_SIZE });
  t.after(() => repo.close());
  const { manifest } = await backUpImage(repo, 'vm-direct', image);

  const packsDir = join(repoPath, 'packs');
  const packs = (await readdir(packsDir, { recursive: true })).filter((name) => name.endsWith('.pack')).map((name) => join(packsDir, name));
  assert.ok(packs.length >= 3, `${packs.length} packs written`);
  // Where the filesystem refuses O_DIRECT (tmpfs) the packs go through the page cache: nothing to count there.
  if (await acceptsDirect(repoPath)) {
    for (const pack of packs) {
      const cached = cachedBytes(pack);
      // The tail (after the last whole page: the last blob's end and the trailer) is written through the page cache.
      assert.ok(cached <= 2 * PAGE_SIZE, `${pack}: ${cached} bytes of it in the page cache`);
    }
  }
  assert.deepEqual((await repo.check({ readData: true })).problems, []);
  assert.ok((await restoreToBuffer(repo, manifest)).equals(await readFile(image)), 'the restore point reads back as the image');
});
