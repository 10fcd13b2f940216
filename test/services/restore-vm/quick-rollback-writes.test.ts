// QuickRollback's cost follows the change (issue #11 goal 2): counted at the disk writer, it writes only the blocks
// that differ; the differing blocks are fetched while the scan still reads the disk; and a bad block found that way
// fails the rollback before anything is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppContext } from '../../../src/services/app-services.js';
import type { DiskWriter } from '../../../src/platform/platform.js';
import { startVmRestore } from '../../../src/services/restore-vm/start-vm-restore.js';
import { findVmRestorePoint } from '../../../src/services/inventory/restore-point-records.js';
import { adminPrincipal, backUpWithReference, BLOCK_SIZE, createVm, diskPath, mixedBlocks, openTestApp, scribble, sessionOfTask, sha256File, waitForStopped } from './restore-fixtures.js';
import { cleanupOf, tempDir } from '../../helpers/cleanup.js';

/** Every write, hole punch and sync the restore sends to the VM's disks, as the platform receives them. */
interface DiskCalls {
  opened: number;
  writes: { offset: number; length: number }[];
  zeroed: { offset: number; length: number }[];
}

function countDiskCalls(ctx: AppContext): DiskCalls {
  const calls: DiskCalls = { opened: 0, writes: [], zeroed: [] };
  const platform = ctx.platform as { openDiskForWrite: (vmId: string, disk: string) => Promise<DiskWriter> };
  const openForWrite = platform.openDiskForWrite.bind(ctx.platform);
  platform.openDiskForWrite = async (vmId, disk) => {
    const w = await openForWrite(vmId, disk);
    calls.opened++;
    return {
      size: w.size,
      write: (offset, data) => (calls.writes.push({ offset, length: data.length }), w.write(offset, data)),
      zero: (offset, length) => (calls.zeroed.push({ offset, length }), w.zero(offset, length)),
      sync: () => w.sync(),
      close: () => w.close(),
    };
  };
  return calls;
}

async function quickRollback(ctx: AppContext, pointId: string) {
  const point = (await findVmRestorePoint(ctx, pointId))!;
  const task = await startVmRestore(ctx, await adminPrincipal(ctx), point, { vmRestorePointId: pointId, powerOnAfterRestore: false, quickRollback: true, target: { kind: 'original' } });
  return waitForStopped(ctx, await sessionOfTask(ctx, task.taskId));
}

test('QuickRollback sends the disk exactly one write per differing block, at its offset, and punches only the filled zero block', async (t) => {
  const { ctx } = await openTestApp(cleanupOf(t));
  await createVm(ctx, 'counted', mixedBlocks(96));
  const { pointId, reference } = await backUpWithReference(ctx, 'counted', tempDir(cleanupOf(t), 'openem-refs-'));
  await scribble(await diskPath(ctx, 'counted'), [0, 13, 50, 95, 7]); // 7 and 95 were zero blocks
  const calls = countDiskCalls(ctx);

  const s = await quickRollback(ctx, pointId);
  assert.equal(s.result, 'Success', s.failureMessage);
  assert.equal(await sha256File(await diskPath(ctx, 'counted')), await sha256File(reference));
  assert.deepEqual(
    calls.writes.map((w) => w.offset / BLOCK_SIZE).sort((a, b) => a - b),
    [0, 13, 50],
  );
  assert.ok(calls.writes.every((w) => w.length === BLOCK_SIZE));
  assert.deepEqual(calls.zeroed, [
    { offset: 7 * BLOCK_SIZE, length: BLOCK_SIZE },
    { offset: 95 * BLOCK_SIZE, length: BLOCK_SIZE },
  ]);
});

test('QuickRollback fetches the differing blocks while its scan of the disk is still running', async (t) => {
  const { ctx } = await openTestApp(cleanupOf(t));
  const kinds = mixedBlocks(512);
  await createVm(ctx, 'overlap', kinds);
  const { pointId, reference } = await backUpWithReference(ctx, 'overlap', tempDir(cleanupOf(t), 'openem-refs-'));
  // 40 data blocks in the first eighth of the disk change; the scan has most of the disk still to read once they are found.
  const changed = kinds.flatMap((k, i) => (k !== 'zero' && i < 64 ? [i] : [])).slice(0, 40);
  await scribble(await diskPath(ctx, 'overlap'), changed);
  const events: string[] = [];
  const repo = ctx.repository;
  const hashSource = repo.hashSource.bind(repo);
  repo.hashSource = async (...args) => {
    try {
      return await hashSource(...args);
    } finally {
      events.push('scan done');
    }
  };
  const fetchBlocks = repo.fetchBlocks.bind(repo);
  repo.fetchBlocks = (blocks, write, options) => {
    events.push('fetch');
    return fetchBlocks(blocks, write, options);
  };

  const s = await quickRollback(ctx, pointId);
  assert.equal(s.result, 'Success', s.failureMessage);
  assert.equal(await sha256File(await diskPath(ctx, 'overlap')), await sha256File(reference));
  assert.ok(events.indexOf('fetch') >= 0 && events.indexOf('fetch') < events.indexOf('scan done'), `a fetch began before the scan ended: ${events.join(', ')}`);
});

async function packFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile() && e.name.endsWith('.pack')) out.push(join(e.parentPath, e.name));
  return out;
}

test('a corrupt block found during the QuickRollback scan fails it with CORRUPT before the VM disk is opened for writing', async (t) => {
  const { ctx, dataDir } = await openTestApp(cleanupOf(t));
  await createVm(ctx, 'rotten', mixedBlocks(64));
  const { pointId } = await backUpWithReference(ctx, 'rotten', tempDir(cleanupOf(t), 'openem-refs-'));
  const disk = await diskPath(ctx, 'rotten');
  await scribble(disk, [0, 1, 2, 5, 40]);
  const before = await readFile(disk);
  const packs = await packFiles(dataDir);
  assert.ok(packs.length > 0);
  // One flipped byte in every MiB of every pack: no stored block decodes to its hash any more.
  for (const p of packs) {
    const fh = await open(p, 'r+');
    const { size } = await fh.stat();
    const spot = Buffer.alloc(1);
    for (let at = 4096; at < size; at += BLOCK_SIZE / 2) {
      await fh.read(spot, 0, 1, at);
      spot[0] ^= 0xff;
      await fh.write(spot, 0, 1, at);
    }
    await fh.close();
  }
  const calls = countDiskCalls(ctx);

  const s = await quickRollback(ctx, pointId);
  assert.equal(s.result, 'Failed');
  assert.match(s.failureMessage ?? '', /is corrupt/);
  assert.ok(s.log.some((l) => l.text === 'VM rotten powered on again: nothing was written'), JSON.stringify(s.log));
  assert.equal(calls.opened, 0, 'the disk was never opened for writing');
  assert.deepEqual(await readFile(disk), before);
  const vm = (await ctx.platform.findVm('rotten'))!;
  assert.equal(vm.restoreIncomplete, undefined);
  assert.equal(vm.powerState, 'PoweredOn', 'back in the state it was in');
});
