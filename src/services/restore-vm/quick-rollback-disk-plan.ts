import type { BlockSource } from '../../disks/block-source.js';
import type { VmConfig } from '../../platform/platform.js';
import type { DiskManifest } from '../../repository/repository.js';
import { cbtRollbackPlan, trackedPoints } from './cbt-rollback-plan.js';
import { planFetchBytes, withoutExistingHoles, type DiskRestorePlan } from './disk-restore-plan.js';
import type { EarlyDiskWriters } from './early-disk-writers.js';
import { quickRollbackPlan } from './quick-rollback-plan.js';
import type { RestoreRun } from './restore-run.js';
import { RollbackPrefetch, type HoldBudget } from './rollback-prefetch.js';

/**
 * One disk's QuickRollback plan, its differing blocks fetched and verified while the scan runs
 * (rollback-prefetch.ts); those that fit the budget come back held in the plan. A plan from changed-block
 * tracking is final before the blocks are verified: its holes are skipped at once, and the disk's writer opens
 * (`early`) while they are fetched.
 */
export async function quickRollbackDiskPlan(run: RestoreRun, vm: VmConfig, diskIndex: number, budget: HoldBudget, early: EarlyDiskWriters): Promise<DiskRestorePlan> {
  const disk = run.manifest.disks[diskIndex];
  const prefetch = new RollbackPrefetch(run.ctx.repository, disk.size, budget, run.signal);
  let plan: DiskRestorePlan;
  let tracked: DiskRestorePlan | undefined;
  const source = await run.ctx.platform.openDisk(vm.id, disk.name);
  try {
    tracked = await changeTrackedPlan(run, vm, disk, source);
    if (tracked) {
      // The VM is off: the disk's extents hold still.
      plan = tracked.zero.length > 0 ? withoutExistingHoles(tracked, await source.allocatedExtents()) : tracked;
      run.progress.add(disk.size);
      prefetch.addAll(plan.fetch);
    } else {
      plan = await quickRollbackPlan(run.ctx.repository, source, disk, {
        signal: run.signal,
        onScanned: (b) => run.progress.add(b),
        onDiffers: (b) => prefetch.add(b),
      });
    }
  } catch (e) {
    await prefetch.abandon();
    throw e;
  } finally {
    await source.close();
  }
  if (tracked && plan.fetch.length + plan.zero.length > 0) early.open(disk.name);
  try {
    await prefetch.finish();
  } catch (e) {
    prefetch.release();
    throw e;
  }
  // The verification share of the progress is done already; the writes remain.
  run.progress.addTotal(2 * planFetchBytes(plan));
  run.progress.add(prefetch.verifiedBytes);
  return { ...plan, held: prefetch.held };
}

/**
 * The disk's QuickRollback plan from changed-block tracking (cbt-rollback-plan.ts), logged; undefined when the
 * chain does not reach the point, which is logged too where the platform tracks changes or the point recorded a
 * checkpoint (the caller then compares hashes).
 */
async function changeTrackedPlan(run: RestoreRun, vm: VmConfig, disk: DiskManifest, source: BlockSource): Promise<DiskRestorePlan | undefined> {
  if (!source.changeTracking && disk.checkpoint === undefined) return undefined;
  if (source.size !== disk.size) return undefined;
  const r = await cbtRollbackPlan(source, disk, await trackedPoints(run.ctx.repository, run.manifest, vm.id, disk.name));
  if ('broken' in r) {
    await run.log(`Changed-block tracking of disk ${disk.name} does not reach the restore point (${r.broken}): comparing the whole disk with it instead`);
    return undefined;
  }
  await run.log(
    `Changed-block tracking of disk ${disk.name} since the restore point of ${r.countedFrom.createdAt} names ${r.plan.fetch.length + r.plan.zero.length} blocks that may differ: only those are written, and the disk is not read for a comparison`,
  );
  return r.plan;
}
