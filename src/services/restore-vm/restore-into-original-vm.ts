import type { DiskWriter, RestoreIncompleteMark, VmConfig } from '../../platform/platform.js';
import { ServerStopping } from '../../tasks/task-engine.js';
import { applyDiskPlan, describeCounters } from './apply-disk-plan.js';
import { fullRestorePlan, planFetchBytes, withoutExistingHoles, type DiskRestorePlan } from './disk-restore-plan.js';
import type { RestoreRun } from './restore-run.js';
import { verifyDiskPlans } from './verify-disk-plans.js';
import { DEFAULT_HOLD_BYTES, type HoldBudget } from './rollback-prefetch.js';
import { quickRollbackDiskPlan } from './quick-rollback-disk-plan.js';
import { conflict } from '../../errors.js';
import { EarlyDiskWriters } from './early-disk-writers.js';
import { abortStagedDisks, stageReplacementDisks, writeReplacementDisks } from './restore-by-replacing-disks.js';

/** Refuses before touching the VM when its disks no longer match the restore point's (sizes cannot change in place). */
function assertSameDisks(vm: VmConfig, run: RestoreRun): void {
  for (const d of run.manifest.disks) {
    const now = vm.disks.find((x) => x.name === d.name);
    if (!now) throw conflict(`VM ${vm.name} has no disk ${d.name} any more; restore with KeepOriginalVM instead`);
    if (now.size !== d.size) throw conflict(`disk ${d.name} of VM ${vm.name} is ${now.size} bytes now but ${d.size} bytes in the restore point; restore with KeepOriginalVM instead`);
  }
}

async function powerOff(run: RestoreRun, vm: VmConfig): Promise<void> {
  await run.ctx.platform.setPowerState(vm.id, 'PoweredOff');
  run.originalPoweredOff = { vmName: vm.name };
  await run.log(`VM ${vm.name} powered off`);
}

/**
 * Every disk's plan, verified, with the VM powered off. A full restore's plan needs only the restore point,
 * so it is verified while the VM still runs. QuickRollback compares with the disks as they are, which needs
 * them quiet: the VM goes off first, and if the plan or its verification fails, back to the state it was in.
 */
async function verifiedPlans(run: RestoreRun, vm: VmConfig, early: EarlyDiskWriters): Promise<DiskRestorePlan[]> {
  const { manifest } = run;
  if (!run.request.quickRollback) {
    const plans = manifest.disks.map((d) => fullRestorePlan(d, 'existing'));
    for (const p of plans) run.progress.addTotal(2 * planFetchBytes(p));
    await verifyDiskPlans(run, plans);
    await powerOff(run, vm);
    return plans;
  }
  run.progress.addTotal(manifest.disks.reduce((n, d) => n + d.size, 0));
  await powerOff(run, vm);
  const budget: HoldBudget = { bytes: DEFAULT_HOLD_BYTES };
  try {
    await run.log('Comparing the disks with the restore point; every block to be written is verified against its hash as it is found, before the VM is changed');
    const plans: DiskRestorePlan[] = [];
    for (let i = 0; i < manifest.disks.length; i++) {
      run.signal.throwIfAborted();
      plans.push(await quickRollbackDiskPlan(run, vm, i, budget, early));
    }
    const bytes = plans.reduce((n, p) => n + planFetchBytes(p), 0);
    const blocks = plans.reduce((n, p) => n + p.fetch.length, 0);
    await run.log(`Every block to be written is present and intact (${blocks} blocks, ${(bytes / 2 ** 20).toFixed(1)} MiB)`);
    return plans;
  } catch (e) {
    // The images are locked while their writers are open: closed before the VM may start again.
    await early.closeAll();
    if (vm.powerState === 'PoweredOn') {
      await run.ctx.platform.setPowerState(vm.id, 'PoweredOn');
      await run.log(`VM ${vm.name} powered on again: nothing was written`);
    }
    run.originalPoweredOff = undefined;
    throw e;
  }
}

/** Marks the VM restore incomplete, naming this session: from here on its disks are neither before nor after. */
async function markWriting(run: RestoreRun, vm: VmConfig): Promise<RestoreIncompleteMark> {
  const mark: RestoreIncompleteMark = run.resumedFrom
    ? { ...run.resumedFrom, state: 'writing', reason: undefined }
    : {
        state: 'writing',
        sessionId: run.sessionId,
        vmRestorePointId: run.request.vmRestorePointId,
        restorePointTime: run.manifest.createdAt,
        request: { quickRollback: run.request.quickRollback, powerOnAfterRestore: run.request.powerOnAfterRestore },
        since: new Date(run.ctx.clock.now()).toISOString(),
      };
  await run.ctx.platform.markRestoreIncomplete(vm.id, mark);
  run.writeStarted = true;
  await run.log(`VM ${vm.name} marked restore incomplete until this restore succeeds; it cannot be powered on meanwhile`);
  return mark;
}

/**
 * After writing began, a stop of the server keeps the mark `writing` (the next start resumes); any other
 * failure — a lost VM claim among them: another node works on the VM now, and a resume would write over
 * its work — turns it `failed`, with the reason, so the VM says what happened to it.
 */
async function recordWriteFailure(run: RestoreRun, vm: VmConfig, mark: RestoreIncompleteMark, e: unknown): Promise<void> {
  if (run.signal.aborted && run.signal.reason instanceof ServerStopping) {
    run.resumesAtStart = true;
    return;
  }
  const why = run.signal.aborted ? run.signal.reason : e;
  const reason = why instanceof Error ? why.message : String(why);
  // Once the claim is lost, the VM's mark may be the new holder's: only this session's own is changed.
  if ((await run.ctx.platform.findVm(vm.id))?.restoreIncomplete?.sessionId !== run.sessionId) return;
  await run.ctx.platform.markRestoreIncomplete(vm.id, { ...mark, state: 'failed', reason });
}

/** The plan minus zero blocks that are holes in the disk already (the VM is off: its extents hold still). */
async function holesSkipped(run: RestoreRun, vm: VmConfig, plan: DiskRestorePlan): Promise<DiskRestorePlan> {
  if (plan.zero.length === 0) return plan;
  const source = await run.ctx.platform.openDisk(vm.id, plan.diskName);
  try {
    return withoutExistingHoles(plan, await source.allocatedExtents());
  } finally {
    await source.close();
  }
}

/** `early`: writers opened while the plans were verified; their plans skip the disks' holes already. */
async function writeDisks(run: RestoreRun, vm: VmConfig, plans: DiskRestorePlan[], early: EarlyDiskWriters): Promise<number> {
  let fetched = 0;
  for (const plan of plans) {
    run.signal.throwIfAborted();
    const opened = early.take(plan.diskName);
    const holes = opened ? plan : await holesSkipped(run, vm, plan);
    let writer: DiskWriter | undefined = await (opened ?? run.ctx.platform.openDiskForWrite(vm.id, plan.diskName));
    try {
      const counters = await applyDiskPlan(run.ctx.repository, writer, holes, { signal: run.signal, onWritten: (b) => run.progress.add(b) });
      await writer.close();
      writer = undefined;
      fetched += counters.bytesFetched;
      await run.log(describeCounters(plan.diskName, counters));
    } finally {
      await writer?.close().catch(() => undefined);
    }
  }
  return fetched;
}

/**
 * Restore to the original location (seed 003 "The VM is restored from the backup to its initial location"):
 * plan every disk (with QuickRollback, only the blocks that differ), verify every block to be written, power
 * the VM off, mark it restore incomplete, write the disks back, bring its config back, clear the mark, and
 * power it on if asked. A full restore on a platform that can replace disks verifies as it writes new images
 * beside the disks and puts them in place only once all are written (restore-by-replacing-disks.ts). A corrupt
 * repository fails the restore before the first write to a disk; stopped midway, the VM stays powered off and
 * marked, and a server stop leaves it to be resumed at the next start.
 */
export async function restoreIntoOriginalVm(run: RestoreRun, vm: VmConfig): Promise<string> {
  const { ctx, manifest } = run;
  assertSameDisks(vm, run);
  // A full restore writes new images beside the disks where the platform can: one pass, the disks untouched until done.
  const staged = run.request.quickRollback ? undefined : await stageReplacementDisks(run, vm);
  let plans: DiskRestorePlan[] = [];
  let mark: RestoreIncompleteMark;
  const early = new EarlyDiskWriters(ctx.platform, vm.id);
  try {
    if (staged) await powerOff(run, vm);
    else plans = await verifiedPlans(run, vm, early);
    mark = await markWriting(run, vm);
  } catch (e) {
    await early.closeAll();
    if (staged) await abortStagedDisks(staged);
    throw e;
  }
  let fetched: number;
  try {
    fetched = staged ? await writeReplacementDisks(run, staged) : await writeDisks(run, vm, plans, early).finally(() => early.closeAll());
    // The config comes back from the point; name, id and location stay those of the VM as it is now.
    await ctx.platform.updateVmConfig({ ...manifest.vm, id: vm.id, name: vm.name, disks: vm.disks, powerState: 'PoweredOff', createdAt: vm.createdAt });
    await run.log(`Configuration of VM ${vm.name} restored (${manifest.vm.cpus} CPUs, ${manifest.vm.memoryMiB} MiB)`);
  } catch (e) {
    if (staged && staged.replaced === 0) run.writeStarted = false;
    if (staged && staged.replaced === 0 && (!run.signal.aborted || run.signal.reason instanceof ServerStopping)) await undoUnchanged(run, vm);
    else await recordWriteFailure(run, vm, mark, e);
    throw e;
  }
  await ctx.platform.clearRestoreIncomplete(vm.id, run.sessionId);
  await run.log(`VM ${vm.name} is no longer marked restore incomplete`);
  if (run.request.powerOnAfterRestore) {
    await ctx.platform.setPowerState(vm.id, 'PoweredOn');
    await run.log(`VM ${vm.name} powered on`);
  }
  const mode = run.request.quickRollback ? 'Quick rollback' : 'Restore';
  return `${mode} of VM ${vm.name} to ${manifest.createdAt} finished: ${(fetched / 2 ** 20).toFixed(1)} MiB restored`;
}

/**
 * A full restore that failed before any new image was in place (a corrupt block, a full datastore, a stop of the
 * server): the VM's disks are as they were, so its mark goes and it is powered on again if it was on. A stop does
 * not leave it marked for the next start to resume: nothing of the restore is on its disks, and a resume would
 * keep it off and unusable until then for a restore its client saw fail. Not after a lost VM claim: the node that
 * took the VM over may be resuming this very session under the same mark.
 */
async function undoUnchanged(run: RestoreRun, vm: VmConfig): Promise<void> {
  await run.ctx.platform.clearRestoreIncomplete(vm.id, run.sessionId);
  if (vm.powerState === 'PoweredOn') {
    await run.ctx.platform.setPowerState(vm.id, 'PoweredOn');
    await run.log(`VM ${vm.name} powered on again: its disks were not changed`);
  } else await run.log(`VM ${vm.name} is no longer marked restore incomplete: its disks were not changed`);
  run.originalPoweredOff = undefined;
  run.leftUnchanged = { vmName: vm.name };
}
