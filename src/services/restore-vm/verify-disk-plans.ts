import type { RestoreRun } from './restore-run.js';
import { planFetchBytes, type DiskRestorePlan } from './disk-restore-plan.js';

/**
 * Issue #9 §5 "verify before the first write": proves that every block the plans will write is in the
 * repository and hashes right, before the VM is changed. Costs one more read and decompress of the
 * fetched blocks (the QuickRollback's difference only, or the whole disk for a full restore); keeps
 * nothing in memory beyond the ranges in flight. A bad or missing block fails here, naming its pack.
 */
export async function verifyDiskPlans(run: RestoreRun, plans: DiskRestorePlan[]): Promise<void> {
  const bytes = plans.reduce((n, p) => n + planFetchBytes(p), 0);
  const blocks = plans.reduce((n, p) => n + p.fetch.length, 0);
  await run.log(`Verifying the ${blocks} blocks to be written (${(bytes / 2 ** 20).toFixed(1)} MiB) against their hashes before changing the VM`);
  for (const plan of plans) {
    let reported = 0;
    await run.ctx.repository.verifyBlocks(plan.fetch, {
      signal: run.signal,
      onProgress: (_blocks, done) => {
        run.progress.add(done - reported);
        reported = done;
      },
    });
  }
  await run.log('Every block to be written is present and intact');
}
