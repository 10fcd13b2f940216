// Restore points written before disks were platform-neutral carry the local image file name in the VM config
// (`disks[].file`); they restore the same, by disk name.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppContext } from '../../../src/services/app-services.js';
import { registerRestorePoint } from '../../../src/services/backup/register-restore-point.js';
import { defaultJobFor } from '../../../src/services/backup/jobs.js';
import { startVmRestore } from '../../../src/services/restore-vm/start-vm-restore.js';
import { findVmRestorePoint } from '../../../src/services/inventory/restore-point-records.js';
import type { VmConfig } from '../../../src/platform/platform.js';
import { fileCleanup, tempDir } from '../../helpers/cleanup.js';
import { adminPrincipal, createVm, diskPath, mixedBlocks, openTestApp, scribble, sessionOfTask, sha256File, waitForStopped } from './restore-fixtures.js';

const cleanup = fileCleanup();

let app: Awaited<ReturnType<typeof openTestApp>>;
let ctx: AppContext;
let refs: string;

before(async () => {
  app = await openTestApp(cleanup);
  ctx = app.ctx;
  refs = tempDir(cleanup, 'openem-refs-');
});

/** A restore point of `vmName` whose recorded config names an image file for disk0, as older points do. */
async function legacyPoint(vmName: string): Promise<{ pointId: string; reference: string }> {
  const vm = (await ctx.platform.findVm(vmName))!;
  const writer = await ctx.repository.beginBackup(vm.id);
  const source = await ctx.platform.openDisk(vm.id, 'disk0');
  try {
    await writer.addDisk('disk0', source);
  } finally {
    await source.close();
  }
  const legacyVm = { ...vm, disks: vm.disks.map((d) => ({ ...d, file: 'legacy-name.img' })) } as VmConfig;
  const { manifest } = await writer.commit({
    id: randomUUID(),
    restorePointId: randomUUID(),
    jobId: (await defaultJobFor(ctx, vm.name)).id,
    vmId: vm.id,
    vmName: vm.name,
    createdAt: new Date().toISOString(),
    pointType: 'Full',
    vm: legacyVm,
  });
  assert.equal((manifest.vm.disks[0] as { file?: string }).file, 'legacy-name.img');
  await registerRestorePoint(ctx, manifest);
  const reference = join(refs, `${vmName}.img`);
  await copyFile(await diskPath(ctx, vmName), reference);
  return { pointId: manifest.id, reference };
}

async function restore(pointId: string, target: { kind: 'original' } | { kind: 'new-vm'; name: string }) {
  const point = (await findVmRestorePoint(ctx, pointId))!;
  const task = await startVmRestore(ctx, await adminPrincipal(ctx), point, { vmRestorePointId: pointId, powerOnAfterRestore: false, quickRollback: false, target });
  return waitForStopped(ctx, await sessionOfTask(ctx, task.taskId));
}

test('a point that names an image file restores as a new VM by disk name, byte for byte', async () => {
  await createVm(ctx, 'legacy01', mixedBlocks(24));
  const { pointId, reference } = await legacyPoint('legacy01');
  const s = await restore(pointId, { kind: 'new-vm', name: 'legacy01_restored' });
  assert.equal(s.result, 'Success', s.failureMessage);
  const restored = (await ctx.platform.findVm('legacy01_restored'))!;
  assert.deepEqual(restored.disks, [{ name: 'disk0', size: 24 * 1024 * 1024 }]);
  assert.equal(await sha256File(await diskPath(ctx, 'legacy01_restored')), await sha256File(reference));
});

test('a point that names an image file restores into the original VM, whose disk keeps its own file', async () => {
  await createVm(ctx, 'legacy02', mixedBlocks(24));
  const { pointId, reference } = await legacyPoint('legacy02');
  const before = await diskPath(ctx, 'legacy02');
  await scribble(before, [0, 5, 9]);
  const s = await restore(pointId, { kind: 'original' });
  assert.equal(s.result, 'Success', s.failureMessage);
  assert.equal(await diskPath(ctx, 'legacy02'), before);
  assert.equal(await sha256File(before), await sha256File(reference));
});
