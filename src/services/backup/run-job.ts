import type { AppContext } from '../app-services.js';
import type { VmClaim } from '../../tasks/vm-claims.js';
import type { JobRecord } from './jobs.js';
import type { BackupOptions, BackupResult } from './backup-vm.js';
import { runBackupSession } from '../backup-sessions/run-backup-session.js';

/**
 * Claims every VM of a job before any is backed up, so a job that would meet a restore is refused as a whole
 * (409 naming what holds the VM) instead of failing halfway. VMs that no longer exist are left to the run, which
 * reports them.
 */
export async function claimJobVms(ctx: AppContext, job: JobRecord, options: { waitMs?: number } = {}): Promise<Map<string, VmClaim>> {
  const claims = new Map<string, VmClaim>();
  try {
    for (const vmName of job.vmNames) {
      const vm = await ctx.platform.findVm(vmName);
      if (!vm || claims.has(vm.id)) continue;
      claims.set(vm.id, await ctx.vmClaims.claim(vm, 'backup', `backup job "${job.name}"`, options));
    }
    return claims;
  } catch (e) {
    for (const c of claims.values()) await c.release();
    throw e;
  }
}

/**
 * Backs up every VM of a job into one restore point (EM's RestorePoint groups a run's VM restore points), recorded
 * as a backup job session; fails with the first VM's error once every VM has had its turn. With `claims` (from
 * `claimJobVms`) each VM is given back as soon as its own backup ends.
 */
export async function runJob(
  ctx: AppContext,
  job: JobRecord,
  options: Omit<BackupOptions, 'jobId' | 'restorePointId' | 'claim'> & { claims?: Map<string, VmClaim> } = {},
): Promise<BackupResult[]> {
  const outcome = await runBackupSession(ctx, job, {
    signal: options.signal,
    onProgress: options.onProgress,
    owner: `server ${ctx.nodeId}`,
    claims: options.claims,
    holder: `backup job "${job.name}"`,
  });
  if (outcome.failures.length > 0) throw outcome.failures[0].error;
  return outcome.results;
}
