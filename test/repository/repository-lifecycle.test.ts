import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { ImageFileSource } from '../../src/disks/image-file-source.js';
import { initRepository, openRepository } from '../../src/repository/open-repository.js';
import { backUpImage, tempDir, writeImage } from './repository-fixtures.js';

test('a folder with other files is refused as a repository, a missing one is not found, an empty one initialises', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const other = join(dir.path, 'photos');
  await mkdir(other);
  await writeFile(join(other, 'cat.jpg'), 'meow');
  await assert.rejects(openRepository(other), (e: Error & { code?: string }) => e.code === 'NOT_FOUND' && /is not an openem repository/.test(e.message));
  await assert.rejects(openRepository(other, { create: true }), { code: 'CONFLICT' });
  await assert.rejects(initRepository(other), { code: 'CONFLICT' });
  await assert.rejects(openRepository(join(dir.path, 'missing')), { code: 'NOT_FOUND' });

  const fresh = join(dir.path, 'fresh');
  await initRepository(fresh);
  await assert.rejects(initRepository(fresh), { code: 'CONFLICT' });
  const repo = await openRepository(fresh);
  assert.deepEqual(await repo.listManifests(), []);
  await repo.close();

  await writeFile(join(fresh, 'config.json'), JSON.stringify({ format: 'openem-repository', version: 2, blockSize: BLOCK_SIZE, hash: 'sha256', compression: 'zstd' }));
  await assert.rejects(openRepository(fresh), { code: 'NOT_IMPLEMENTED', message: /format version 2/ });
});

test('two backups of one VM conflict, other VMs run concurrently, and a dead process lock is taken over', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const repoPath = join(dir.path, 'repo');
  const repo = await openRepository(repoPath, { create: true });
  t.after(() => repo.close());

  const first = await repo.beginBackup('vm-1');
  await assert.rejects(repo.beginBackup('vm-1'), { code: 'CONFLICT' });
  const other = await repo.beginBackup('vm-2');
  // A second process (here: a second open of the same folder) is excluded through the lock file.
  const second = await openRepository(repoPath);
  t.after(() => second.close());
  await assert.rejects(second.beginBackup('vm-1'), (e: Error & { code?: string }) => e.code === 'CONFLICT' && /held by pid/.test(e.message));
  await assert.rejects(repo.gc(), { code: 'CONFLICT' });
  await first.abort();
  await other.abort();
  await (await second.beginBackup('vm-1')).abort();

  // A lock file left by a process that no longer exists.
  const { hostname } = await import('node:os');
  await writeFile(join(repoPath, 'locks', 'vm%3Avm-3.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), purpose: 'x', since: '' }));
  const taken = await repo.beginBackup('vm-3');
  await taken.abort();
  assert.deepEqual(await readdir(join(repoPath, 'locks')), []);
});

test('forget then gc deletes the packs only the forgotten point used, and keeps shared ones', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const repoPath = join(dir.path, 'repo');
  const repo = await openRepository(repoPath, { create: true, packSize: 2 * BLOCK_SIZE });
  t.after(() => repo.close());
  const a = join(dir.path, 'a.img');
  const b = join(dir.path, 'b.img');
  await writeImage(a, ['random', 'random', 'random', 'random']);
  await writeImage(b, ['random', 'random']);
  const pa = await backUpImage(repo, 'vm-a', a);
  const pb = await backUpImage(repo, 'vm-b', b);
  const packsBefore = (await repo.check()).packs;
  assert.equal(packsBefore, 3);

  assert.deepEqual(await repo.gc(), { packsDeleted: 0, bytesFreed: 0 });
  await repo.forget([pa.manifest.id]);
  const freed = await repo.gc();
  assert.equal(freed.packsDeleted, 2);
  assert.ok(freed.bytesFreed >= 4 * BLOCK_SIZE);
  const after = await repo.check({ readData: true });
  assert.deepEqual(after.problems, []);
  assert.equal(after.packs, 1);
  assert.deepEqual((await repo.listManifests()).map((m) => m.id), [pb.manifest.id]);

  // The repository still backs up (and dedups against what is left) after gc.
  const again = await backUpImage(repo, 'vm-a', a);
  assert.equal(again.stats.blocksNew, 4);
  const src = await ImageFileSource.open(b);
  const w = await repo.beginBackup('vm-b');
  await w.addDisk('disk0', src);
  await src.close();
  await w.abort();
});
