import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { ImageFileSource } from '../../src/disks/image-file-source.js';
import { initRepository, openRepository } from '../../src/repository/open-repository.js';
import { createBaseContext } from '../../src/app-context.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { StateRepositoryLeases } from '../../src/tasks/repository-leases.js';
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
  // The leases live in the state store (here SQLite in the data directory), as in the server and the CLI.
  const config = loadConfig({ env: {}, flags: { dataDir: join(dir.path, 'data'), adminPassword: 'Admin-pass-1' } });
  const ctx = await createBaseContext(config, createLogger('silent'), { announce: () => {} });
  t.after(() => ctx.store.close());
  const leases = new StateRepositoryLeases(ctx);
  t.after(() => leases.stop());
  const repo = await openRepository(repoPath, { create: true, leases });
  t.after(() => repo.close());

  const first = await repo.beginBackup('vm-1');
  await assert.rejects(repo.beginBackup('vm-1'), { code: 'CONFLICT' });
  const other = await repo.beginBackup('vm-2');
  // A second process (here: a second open of the same folder, as another node on the same store) is excluded through the state store.
  const secondLeases = new StateRepositoryLeases({ ...ctx, nodeId: randomUUID() });
  t.after(() => secondLeases.stop());
  const second = await openRepository(repoPath, { leases: secondLeases });
  t.after(() => second.close());
  await assert.rejects(second.beginBackup('vm-1'), (e: Error & { code?: string }) => e.code === 'CONFLICT' && /held by pid/.test(e.message));
  await assert.rejects(repo.gc(), { code: 'CONFLICT' });
  await first.abort();
  await other.abort();
  await (await second.beginBackup('vm-1')).abort();

  // A lease left by a process on this host that no longer exists.
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  const deadLeases = new StateRepositoryLeases({ ...ctx, nodeId: randomUUID() }, { pid: dead });
  await deadLeases.backup('vm-3');
  deadLeases.stop();
  const taken = await repo.beginBackup('vm-3');
  await taken.abort();
  assert.deepEqual(await ctx.store.db.selectFrom('leases').selectAll().execute(), []);
  assert.equal(existsSync(join(repoPath, 'locks')), false, 'nothing of the exclusion is in the blob store');
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
