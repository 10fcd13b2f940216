// Issue #11 goal 4: a full restore to the original VM is one pass over the restore point. It writes a new image
// beside each disk, every block fetched and decoded once and verified as it is fetched, and renames it over the
// disk only once every block is written: until then the disk is as it was, also when the restore fails; what a
// killed restore left beside a disk goes at the next start.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AppContext } from '../../../src/services/app-services.js';
import { startVmRestore } from '../../../src/services/restore-vm/start-vm-restore.js';
import { findVmRestorePoint } from '../../../src/services/inventory/restore-point-records.js';
import { adminPrincipal, backUpWithReference, createVm, diskCounters, diskPath, mixedBlocks, openTestApp, scribble, sessionOfTask, sha256File, waitForStopped } from './restore-fixtures.js';
import { cleanupOf, fileCleanup, tempDir } from '../../helpers/cleanup.js';

const cleanup = fileCleanup();
const refs = tempDir(cleanup, 'openem-refs-');
let app: Awaited<ReturnType<typeof openTestApp>>;
let ctx: AppContext;

before(async () => {
  app = await openTestApp(cleanup);
  ctx = app.ctx;
});

async function fullRestore(c: AppContext, pointId: string) {
  const point = (await findVmRestorePoint(c, pointId))!;
  const task = await startVmRestore(c, await adminPrincipal(c), point, { vmRestorePointId: pointId, powerOnAfterRestore: false, quickRollback: false, target: { kind: 'original' } });
  return waitForStopped(c, await sessionOfTask(c, task.taskId));
}

async function stagingFiles(c: AppContext, vmName: string): Promise<string[]> {
  return (await readdir(dirname(await diskPath(c, vmName)))).filter((n) => n.startsWith('.staging-'));
}

/** Counts the blocks the repository is asked to verify and to fetch (each fetch decodes and verifies on a worker). */
function countRepositoryPasses(c: AppContext, duringWrite?: (n: number) => Promise<void>): { verified: number; fetched: number } {
  const counts = { verified: 0, fetched: 0 };
  const verify = c.repository.verifyBlocks.bind(c.repository);
  const fetch = c.repository.fetchBlocks.bind(c.repository);
  c.repository.verifyBlocks = (blocks, options) => ((counts.verified += blocks.length), verify(blocks, options));
  let written = 0;
  c.repository.fetchBlocks = (blocks, write, options) => {
    counts.fetched += blocks.length;
    return fetch(blocks, async (i, d) => {
      await duringWrite?.(written++);
      await write(i, d);
    }, options);
  };
  return counts;
}

test('a full restore fetches and decodes each block once and leaves the disk untouched until the new image, complete, replaces it', async () => {
  await createVm(ctx, 'once', mixedBlocks(64));
  const { pointId, reference } = await backUpWithReference(ctx, 'once', refs);
  const path = await diskPath(ctx, 'once');
  await scribble(path, [0, 5, 3, 40]);
  const untouched = await sha256File(path);
  const inode = (await stat(path)).ino;
  // Group-writable: a umask of 022 would take that bit from a file created with this mode.
  await chmod(path, 0o664);
  const previousUmask = process.umask(0o022);
  const midway: { disk?: string; staging?: string[] } = {};
  const counts = countRepositoryPasses(ctx, async (n) => {
    if (n !== 30) return;
    midway.disk = await sha256File(path);
    midway.staging = await stagingFiles(ctx, 'once');
  });

  const s = await fullRestore(ctx, pointId).finally(() => process.umask(previousUmask));
  assert.equal(s.result, 'Success', s.failureMessage);
  assert.equal((await stat(path)).mode & 0o7777, 0o664, "the new image has the disk's mode, whatever the umask");
  assert.equal(counts.verified, 0, 'no separate verification pass');
  assert.equal(counts.fetched, 48, 'each of the 48 data blocks fetched once');
  assert.equal(diskCounters(s.log).fetched, 48);
  assert.equal(midway.disk, untouched, 'with 30 blocks written the disk is as it was');
  assert.equal(midway.staging?.length, 1, 'the new image is beside the disk meanwhile');
  assert.equal(await sha256File(path), await sha256File(reference));
  assert.notEqual((await stat(path)).ino, inode, 'the disk is the new image, renamed into place');
  assert.deepEqual(await stagingFiles(ctx, 'once'), []);
  assert.equal((await ctx.platform.findVm('once'))!.restoreIncomplete, undefined);
});

test('a full restore failing midway leaves the disk, vm.json and power state as they were, and nothing beside the disk', async () => {
  await createVm(ctx, 'fails', mixedBlocks(64));
  const { pointId } = await backUpWithReference(ctx, 'fails', refs);
  const path = await diskPath(ctx, 'fails');
  await scribble(path, [0, 1, 9]);
  const before = { disk: await sha256File(path), json: await readFile(join(dirname(path), 'vm.json'), 'utf8') };
  assert.equal((await ctx.platform.findVm('fails'))!.powerState, 'PoweredOn');
  countRepositoryPasses(ctx, async (n) => {
    if (n === 20) throw new Error('no space left on the datastore (test)');
  });

  const s = await fullRestore(ctx, pointId);
  assert.equal(s.result, 'Failed');
  assert.match(s.failureMessage ?? '', /no space left on the datastore \(test\)/);
  assert.doesNotMatch(s.failureMessage ?? '', /partly restored/);
  assert.ok(s.log.some((l) => /VM fails powered on again: its disks were not changed/.test(l.text)), JSON.stringify(s.log));
  assert.equal(await sha256File(path), before.disk);
  assert.equal(await readFile(join(dirname(path), 'vm.json'), 'utf8'), before.json, 'vm.json as it was: powered on, no mark');
  assert.deepEqual(await stagingFiles(ctx, 'fails'), []);
});

test('a new image a killed restore left beside a disk is removed at the next start; the disk stays', async (t) => {
  const own = await openTestApp(cleanupOf(t));
  await createVm(own.ctx, 'left', mixedBlocks(8));
  const path = await diskPath(own.ctx, 'left');
  const disk = await sha256File(path);
  await own.close();
  // The name a restore in a process that is gone now gave its new image.
  const gone = spawnSync('true').pid!;
  const leftover = join(dirname(path), `.staging-${gone}-${randomUUID()}.img`);
  await writeFile(leftover, 'half a disk');

  const again = await openTestApp(cleanupOf(t), own.dataDir);
  assert.deepEqual(await stagingFiles(again.ctx, 'left'), []);
  assert.equal(await sha256File(path), disk);
});
