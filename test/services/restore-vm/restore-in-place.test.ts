// Restore to the original VM (seed 003) and QuickRollback (seed 001), driven through the service on real data.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { AppContext } from '../../../src/services/app-services.js';
import { startVmRestore } from '../../../src/services/restore-vm/start-vm-restore.js';
import { findVmRestorePoint } from '../../../src/services/inventory/restore-point-records.js';
import type { VmRestoreRequest } from '../../../src/services/restore-vm/vm-restore-request.js';
import { stat } from 'node:fs/promises';
import { adminPrincipal, BLOCK_SIZE, backUpWithReference, createVm, diskCounters, diskPath, mixedBlocks, openTestApp, scribble, sessionOfTask, sha256File, waitForStopped } from './restore-fixtures.js';
import { fileCleanup, tempDir } from '../../helpers/cleanup.js';

const cleanup = fileCleanup();

let app: Awaited<ReturnType<typeof openTestApp>>;
let ctx: AppContext;
let refs: string;

before(async () => {
  app = await openTestApp(cleanup);
  ctx = app.ctx;
  refs = tempDir(cleanup, 'openem-refs-');
});

async function restore(pointId: string, request: Partial<VmRestoreRequest>) {
  const point = (await findVmRestorePoint(ctx, pointId))!;
  const task = await startVmRestore(ctx, await adminPrincipal(ctx), point, { vmRestorePointId: pointId, powerOnAfterRestore: false, quickRollback: false, target: { kind: 'original' }, ...request });
  return waitForStopped(ctx, await sessionOfTask(ctx, task.taskId));
}

test('a restore to the original VM brings back every byte, leaves every zero block a hole (also those that held data), restores the config and powers on when asked', async () => {
  await createVm(ctx, 'inplace', mixedBlocks(64));
  const { pointId, reference } = await backUpWithReference(ctx, 'inplace', refs);
  const vm = (await ctx.platform.findVm('inplace'))!;
  await scribble(await diskPath(ctx, 'inplace'), [0, 3, 7, 30, 63]); // 3, 7 and 63 were zero blocks
  await ctx.platform.updateVmConfig({ ...vm, cpus: 8 });

  const s = await restore(pointId, { powerOnAfterRestore: true });
  assert.equal(s.result, 'Success', s.failureMessage);
  assert.equal(s.progress, 100);
  assert.equal(await sha256File(await diskPath(ctx, 'inplace')), await sha256File(reference));
  const after = (await ctx.platform.findVm('inplace'))!;
  assert.equal(after.cpus, 2, 'config restored');
  assert.equal(after.powerState, 'PoweredOn');
  const c = diskCounters(s.log);
  assert.equal(c.fetched, 48, 'every data block of 64 written');
  // Issue #11: the disk is a new image (restore-by-replacing-disks.ts), all holes but the 48 blocks written: the 3
  // zero blocks that held data are holes again without a punch.
  assert.equal(c.zeroed, 0, 'nothing to punch in a new image');
  assert.equal(c.unchanged, 16, 'every zero block left a hole');
  assert.ok((await stat(await diskPath(ctx, 'inplace'))).blocks * 512 <= 48 * BLOCK_SIZE + 64 * 1024, 'no space taken beyond the 48 data blocks');
});

test('QuickRollback writes only the blocks that differ and leaves the VM powered off when not asked', async () => {
  await createVm(ctx, 'rollback', mixedBlocks(128));
  const { pointId, reference } = await backUpWithReference(ctx, 'rollback', refs);
  // Three data blocks changed, one zero block filled.
  await scribble(await diskPath(ctx, 'rollback'), [1, 40, 100, 3]);

  const s = await restore(pointId, { quickRollback: true });
  assert.equal(s.result, 'Success', s.failureMessage);
  assert.equal(await sha256File(await diskPath(ctx, 'rollback')), await sha256File(reference));
  assert.deepEqual(diskCounters(s.log), { fetched: 3, written: 3, zeroed: 1, unchanged: 124 });
  assert.equal((await ctx.platform.findVm('rollback'))!.powerState, 'PoweredOff');
});

test('a second restore of a VM being restored is refused with CONFLICT, naming the running session', async () => {
  await createVm(ctx, 'busy', mixedBlocks(32));
  const { pointId } = await backUpWithReference(ctx, 'busy', refs);
  const point = (await findVmRestorePoint(ctx, pointId))!;
  const p = await adminPrincipal(ctx);
  const req: VmRestoreRequest = { vmRestorePointId: pointId, powerOnAfterRestore: false, quickRollback: false, target: { kind: 'original' } };
  const first = await startVmRestore(ctx, p, point, req);
  await assert.rejects(startVmRestore(ctx, p, point, req), (e: any) => e.code === 'CONFLICT' && /VM busy is busy: an entire VM restore holds it/.test(e.message));
  await waitForStopped(ctx, await sessionOfTask(ctx, first.taskId));
  // Once stopped, the VM is free again.
  const again = await startVmRestore(ctx, p, point, req);
  assert.equal((await waitForStopped(ctx, await sessionOfTask(ctx, again.taskId))).result, 'Success');
});
