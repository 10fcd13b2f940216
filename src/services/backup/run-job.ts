import type { AppContext } from '../app-services.js';
import type { JobRecord } from './jobs.js';
import type { BackupOptions, BackupResult } from './backup-vm.js';
import { runBackupSession } from '../backup-sessions/run-backup-session.js';

/**
 * Backs up every VM of a job into one restore point (EM's RestorePoint groups a run's VM restore points), recorded
 * as a backup job session; fails with the first VM's error once every VM has had its turn.
 */
export async function runJob(ctx: AppContext, job: JobRecord, options: Omit<BackupOptions, 'jobId' | 'restorePointId'> = {}): Promise<BackupResult[]> {
  const outcome = await runBackupSession(ctx, job, { signal: options.signal, onProgress: options.onProgress, owner: `server ${ctx.nodeId}` });
  if (outcome.failures.length > 0) throw outcome.failures[0].error;
  return outcome.results;
}
