import { randomUUID } from 'node:crypto';
import type { AppContext } from '../app-services.js';
import type { JobRecord } from './jobs.js';
import { backupVm, type BackupOptions, type BackupResult } from './backup-vm.js';

/** Backs up every VM of a job into one restore point (EM's RestorePoint groups a run's VM restore points). */
export async function runJob(ctx: AppContext, job: JobRecord, options: Omit<BackupOptions, 'jobId' | 'restorePointId'> = {}): Promise<BackupResult[]> {
  const restorePointId = randomUUID();
  const results: BackupResult[] = [];
  for (const vmName of job.vmNames) results.push(await backupVm(ctx, vmName, { ...options, jobId: job.id, restorePointId }));
  return results;
}
