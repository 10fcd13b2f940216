// The "restore incomplete" mark through the service (issue #9 §6): a graceful stop mid-write keeps the session
// open and the next start resumes it; a write that fails after writing began leaves the mark `failed`, power-on
// refused naming the session, until a new restore succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppContext } from '../../../src/services/app-services.js';
import type { DiskWriter } from '../../../src/platform/platform.js';
import { isOpenemError } from '../../../src/errors.js';
import { backupVm } from '../../../src/services/backup/backup-vm.js';
import { startVmRestore } from '../../../src/services/restore-vm/start-vm-restore.js';
import { findVmRestorePoint } from '../../../src/services/inventory/restore-point-records.js';
import type { VmRestoreRequest } from '../../../src/services/restore-vm/vm-restore-request.js';
import { adminPrincipal, backUpWithReference, createVm, diskPath, mixedBlocks, openTestApp, scribble, sessionOfTask, sha256File, waitForStopped } from './restore-fixtures.js';
import { cleanupOf, fileCleanup, tempDir } from '../../helpers/cleanup.js';

const refs = tempDir(fileCleanup(), 'openem-refs-');

/** Each write of the platform's in-place writers (counted over all of them) first waits for `beforeWrite`, which may throw, as a datastore gone would. */
function interceptInPlaceWrites(ctx: AppContext, beforeWrite: (n: number) => Promise<void>): void {
  const platform = ctx.platform as { openDiskForWrite: (vmId: string, disk: string) => Promise<DiskWriter> };
  const openForWrite = platform.openDiskForWrite.bind(ctx.platform);
  let n = 0;
  platform.openDiskForWrite = async (vmId, disk) => {
    const w = await openForWrite(vmId, disk);
    return {
      size: w.size,
      write: async (offset, data) => {
        await beforeWrite(n++);
        return w.write(offset, data);
      },
      zero: (offset, length) => w.zero(offset, length),
      sync: () => w.sync(),
      close: () => w.close(),
    };
  };
}

async function start(ctx: AppContext, vmName: string, pointId: string, request: Partial<VmRestoreRequest> = {}) {
  const point = (await findVmRestorePoint(ctx, pointId))!;
  const full: VmRestoreRequest = { vmRestorePointId: pointId, powerOnAfterRestore: false, quickRollback: false, target: { kind: 'original' }, ...request };
  const task = await startVmRestore(ctx, await adminPrincipal(ctx), point, full);
  assert.equal(point.vmName, vmName);
  return sessionOfTask(ctx, task.taskId);
}

async function waitMarked(ctx: AppContext, vmName: string, sessionId: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const vm = await ctx.platform.findVm(vmName);
    if (vm?.restoreIncomplete?.state === 'writing' && vm.restoreIncomplete.sessionId === sessionId) return vm;
    assert.notEqual((await ctx.restoreSessions.get(sessionId))?.state, 'Stopped', 'the restore ended before it was marked');
    assert.ok(Date.now() < deadline, `VM ${vmName} was not marked as being written by session ${sessionId} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function powerOnRefusal(ctx: AppContext, vmId: string): Promise<string> {
  try {
    await ctx.platform.setPowerState(vmId, 'PoweredOn');
  } catch (e) {
    assert.ok(isOpenemError(e) && e.code === 'CONFLICT', String(e));
    return e.message;
  }
  assert.fail('power-on was not refused');
}

test('a graceful stop mid-write keeps the session Working and the VM marked; the next start resumes it to a byte-identical disk', async (t) => {
  // A QuickRollback writes the disk in place; a full restore stopped before its new image is in place leaves the VM
  // as it was instead (restore-replace-disks, vm-restore-interrupt).
  const first = await openTestApp(cleanupOf(t));
  await createVm(first.ctx, 'stop-resume', mixedBlocks(64));
  const { pointId, reference } = await backUpWithReference(first.ctx, 'stop-resume', refs);
  await scribble(await diskPath(first.ctx, 'stop-resume'), [0, 1, 4, 5, 8, 9, 12, 13, 40, 41]);
  interceptInPlaceWrites(first.ctx, (n) => new Promise((r) => setTimeout(r, n >= 3 ? 40 : 0)));
  const sessionId = await start(first.ctx, 'stop-resume', pointId, { quickRollback: true, powerOnAfterRestore: true });
  const vm = await waitMarked(first.ctx, 'stop-resume', sessionId);
  assert.match(await powerOnRefusal(first.ctx, vm.id), new RegExp(`restore session ${sessionId} .*has not completed`));
  await first.close();

  const again = await openTestApp(cleanupOf(t), first.dataDir);
  const s = await waitForStopped(again.ctx, sessionId);
  assert.equal(s.result, 'Success', s.failureMessage);
  const log = s.log.map((l) => l.text);
  assert.ok(log.some((l) => /^Interrupted: the openem server stopped while this restore was writing; VM stop-resume stays marked/.test(l)), log.join('\n'));
  assert.ok(log.some((l) => /^Resumed after the interruption: Quick rollback of VM stop-resume/.test(l)), log.join('\n'));
  assert.equal(await sha256File(await diskPath(again.ctx, 'stop-resume')), await sha256File(reference));
  const after = (await again.ctx.platform.findVm('stop-resume'))!;
  assert.equal(after.restoreIncomplete, undefined);
  assert.equal(after.powerState, 'PoweredOn', 'the resumed restore did what was asked: PowerOnAfterRestore');
});

test('a write failing after writing began leaves the VM marked failed and power-on refused, until a new restore succeeds', async (t) => {
  const app = await openTestApp(cleanupOf(t));
  const { ctx } = app;
  await createVm(ctx, 'bad-disk', mixedBlocks(48));
  const { pointId, reference } = await backUpWithReference(ctx, 'bad-disk', refs);
  // A QuickRollback writes the disk in place (a full restore writes a new image beside it: restore-replace-disks).
  await scribble(await diskPath(ctx, 'bad-disk'), [0, 1, 4, 5, 8, 9, 12, 13, 20]);
  let failing = true;
  interceptInPlaceWrites(ctx, async (n) => {
    if (failing && n === 5) throw new Error('the datastore went away (test)');
  });
  const sessionId = await start(ctx, 'bad-disk', pointId, { quickRollback: true });
  const s = await waitForStopped(ctx, sessionId);
  assert.equal(s.result, 'Failed');
  assert.match(s.failureMessage ?? '', /the datastore went away \(test\); VM bad-disk is left powered off with its disks partly restored and marked restore incomplete/);
  const vm = (await ctx.platform.findVm('bad-disk'))!;
  assert.equal(vm.restoreIncomplete?.state, 'failed');
  assert.equal(vm.restoreIncomplete?.sessionId, sessionId);
  assert.match(await powerOnRefusal(ctx, vm.id), new RegExp(`restore session ${sessionId} .*failed after writing began \\(the datastore went away \\(test\\)\\).*restore-abandon bad-disk`));
  await assert.rejects(ctx.platform.setPowerState(vm.id, 'PoweredOn', { force: true }), { code: 'CONFLICT', message: /--force powers on only a VM whose restore was abandoned/ });
  await assert.rejects(backupVm(ctx, 'bad-disk'), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'CONFLICT');
    assert.match(e.message, new RegExp(`cannot back up: VM bad-disk is marked restore incomplete: restore session ${sessionId}`));
    return true;
  });

  failing = false;
  const second = await start(ctx, 'bad-disk', pointId, { quickRollback: true, powerOnAfterRestore: true });
  const done = await waitForStopped(ctx, second);
  assert.equal(done.result, 'Success', done.failureMessage);
  assert.equal(await sha256File(await diskPath(ctx, 'bad-disk')), await sha256File(reference));
  const now = (await ctx.platform.findVm('bad-disk'))!;
  assert.equal(now.restoreIncomplete, undefined);
  assert.equal(now.powerState, 'PoweredOn');
});
