import type { DiskWriter, StagedVm } from '../../platform/platform.js';
import { applyDiskPlan, describeCounters } from './apply-disk-plan.js';
import { fullRestorePlan, planFetchBytes } from './disk-restore-plan.js';
import type { RestoreRun } from './restore-run.js';
import type { NewVmTarget } from './vm-restore-request.js';

/**
 * KeepOriginalVM (seed 001) and Cloud Director's VmNewName: the VM is built out of sight
 * (`platform.stageNewVm`) and made visible by `commit` only once every disk is written, so a failed or
 * stopped restore never leaves a half-written VM under the new name.
 */
export async function restoreAsNewVm(run: RestoreRun, target: NewVmTarget): Promise<string> {
  const { ctx, manifest } = run;
  const plans = manifest.disks.map((d) => fullRestorePlan(d, 'fresh'));
  for (const p of plans) run.progress.addTotal(planFetchBytes(p));
  const staged: StagedVm = await ctx.platform.stageNewVm({
    name: target.name,
    cpus: manifest.vm.cpus,
    memoryMiB: manifest.vm.memoryMiB,
    guestOs: manifest.vm.guestOs,
    platform: manifest.vm.platform,
    powerState: 'PoweredOff',
    hierarchyRootId: '',
    datastoreId: target.datastoreId ?? manifest.vm.datastoreId,
    // Disks by name: where the platform keeps them is its own (points made before that was so name a file too).
    disks: manifest.disks.map((d) => ({ name: d.name, size: d.size })),
    // A VM that booted the host's kernel boots it again (kvm); the other platforms ignore it.
    ...(manifest.vm.boot ? { boot: manifest.vm.boot } : {}),
  });
  await run.log(`Building VM ${target.name} out of sight`);
  try {
    for (const plan of plans) {
      run.signal.throwIfAborted();
      let writer: DiskWriter | undefined = await staged.openDiskForWrite(plan.diskName);
      try {
        const counters = await applyDiskPlan(ctx.repository, writer, plan, { signal: run.signal, onWritten: (b) => run.progress.add(b) });
        await writer.close();
        writer = undefined;
        await run.log(describeCounters(plan.diskName, counters));
      } finally {
        await writer?.close().catch(() => undefined);
      }
    }
    run.signal.throwIfAborted();
    const vm = await staged.commit();
    await ctx.restoreSessions.update(run.sessionId, { restoredVm: { platform: vm.platform, hierarchyRootId: vm.hierarchyRootId, vmId: vm.id } });
    await run.log(`VM ${vm.name} (${vm.id}) created from the restore point`);
    if (run.request.powerOnAfterRestore) {
      await ctx.platform.setPowerState(vm.id, 'PoweredOn');
      await run.log(`VM ${vm.name} powered on`);
    }
    return `VM ${manifest.vmName} restored as ${vm.name}`;
  } catch (e) {
    await staged.abort();
    throw e;
  }
}
