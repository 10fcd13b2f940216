import type { DiskReplacement, VmConfig } from '../../platform/platform.js';
import { applyDiskPlan, describeCounters } from './apply-disk-plan.js';
import { fullRestorePlan, planFetchBytes, type DiskRestorePlan } from './disk-restore-plan.js';
import type { RestoreRun } from './restore-run.js';

/** The full restore's disks, staged beside the VM's own and not yet in their place; undefined if there is no room. */
export interface StagedDisks {
  plans: DiskRestorePlan[];
  replacements: DiskReplacement[];
  /** How many new images are in place of their disks (0 until all are written: then the VM's disks are as they were). */
  replaced: number;
}

/**
 * Issue #11 goal 4: a full restore to the original VM in one pass over the restore point. Each disk gets a complete
 * new image beside it from the platform (`replaceDisks`: space checked first, holes for zero blocks), every block
 * fetched once and verified against its hash on the worker that decodes it, as it is written there. The VM's
 * own disks are untouched until every new image is written, so "verify before the first write" (issue #9 §5) holds
 * for them. Undefined where the platform cannot (the caller verifies first and writes in place, as before).
 */
export async function stageReplacementDisks(run: RestoreRun, vm: VmConfig): Promise<StagedDisks | undefined> {
  const plans = run.manifest.disks.map((d) => fullRestorePlan(d, 'fresh'));
  const bytes = plans.reduce((n, p) => n + planFetchBytes(p), 0);
  const replacements = await run.ctx.platform.replaceDisks(vm.id, plans.map((p) => ({ name: p.diskName })), bytes);
  if (!replacements) return undefined;
  if ('noRoom' in replacements) {
    await run.log(`No room for new images beside the disks of VM ${vm.name} (${replacements.noRoom}): every block is verified first, then the disks are written in place`);
    return undefined;
  }
  for (const p of plans) run.progress.addTotal(planFetchBytes(p));
  return { plans, replacements, replaced: 0 };
}

/** Removes the staged images that are not in place yet. */
export async function abortStagedDisks(staged: StagedDisks): Promise<void> {
  for (const r of staged.replacements) await r.abort();
}

/**
 * Writes the staged images (the VM is off and marked by now), then puts each in place of its disk. A failure before
 * the first is in place leaves every disk as it was and removes the new images; the caller says so.
 */
export async function writeReplacementDisks(run: RestoreRun, staged: StagedDisks): Promise<number> {
  let fetched = 0;
  const { plans, replacements } = staged;
  const blocks = plans.reduce((n, p) => n + p.fetch.length, 0);
  try {
    await run.log(
      `Writing ${blocks} blocks (${(plans.reduce((n, p) => n + planFetchBytes(p), 0) / 2 ** 20).toFixed(1)} MiB) into new images beside the VM's disks, ` +
        "each verified against its hash as it is fetched; the VM's disks are not changed until every block is written",
    );
    for (let i = 0; i < plans.length; i++) {
      run.signal.throwIfAborted();
      // The new image's writer bypasses the page cache and writes blocks decoded into aligned memory as they are.
      const counters = await applyDiskPlan(run.ctx.repository, replacements[i].writer, plans[i], { signal: run.signal, onWritten: (b) => run.progress.add(b), alignedBlocks: true });
      fetched += counters.bytesFetched;
      await run.log(describeCounters(plans[i].diskName, counters));
    }
    run.signal.throwIfAborted();
    await run.log('Every block to be written is present and intact: the new images replace the disks');
    for (const r of replacements) {
      await r.commit();
      staged.replaced++;
      // The replaced image's blocks are freed after the restore; a stop of the server waits for it.
      const removed = r.oldImageRemoved().catch((e) => run.ctx.log.warn({ err: e }, 'a replaced disk image could not be removed; the next start removes it'));
      const waitRemoved = () => removed;
      run.ctx.onShutdown.push(waitRemoved);
      void removed.finally(() => {
        const at = run.ctx.onShutdown.indexOf(waitRemoved);
        if (at >= 0) run.ctx.onShutdown.splice(at, 1);
      });
    }
  } finally {
    await abortStagedDisks(staged);
  }
  return fetched;
}
