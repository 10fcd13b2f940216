import { randomUUID } from 'node:crypto';
import type { AppContext } from '../app-services.js';
import { notFound } from '../../errors.js';
import type { BackupProgress, BackupStats, RestorePointManifest } from '../../repository/repository.js';
import { registerRestorePoint } from './register-restore-point.js';
import { defaultJobFor } from './jobs.js';

export interface BackupOptions {
  jobId?: string;
  /** Groups the VM points of one job run under one EM RestorePoint. */
  restorePointId?: string;
  signal?: AbortSignal;
  onProgress?: (p: BackupProgress & { vmName: string }) => void;
}

export interface BackupResult {
  manifest: RestorePointManifest;
  stats: BackupStats;
}

/** The newest restore point of a VM, which the next backup is an increment of. */
async function latestManifest(ctx: AppContext, vmId: string): Promise<RestorePointManifest | undefined> {
  const mine = (await ctx.repository.listManifests()).filter((m) => m.vmId === vmId).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const last = mine[mine.length - 1];
  return last ? ctx.repository.readManifest(last.id) : undefined;
}

/**
 * Backs up one VM: every disk block by block into the repository (an Increment when an earlier point
 * exists: only changed blocks are stored), the manifest last, then the catalog index and the store rows.
 */
export async function backupVm(ctx: AppContext, vmName: string, options: BackupOptions = {}): Promise<BackupResult> {
  const vm = await ctx.platform.findVm(vmName);
  if (!vm) throw notFound(`VM ${vmName} was not found`);
  const jobId = options.jobId ?? (await defaultJobFor(ctx, vm.name)).id;
  const previous = await latestManifest(ctx, vm.id);
  const writer = await ctx.repository.beginBackup(vm.id);
  let committed: BackupResult | undefined;
  try {
    const disks = [];
    for (const d of vm.disks) {
      const source = await ctx.platform.openDisk(vm.id, d.name);
      try {
        disks.push(
          await writer.addDisk(d.name, source, {
            previous: previous?.disks.find((p) => p.name === d.name),
            signal: options.signal,
            onProgress: (p) => options.onProgress?.({ ...p, vmName: vm.name }),
          }),
        );
      } finally {
        await source.close();
      }
    }
    // Second-resolution, monotonic: EM names points `<vm>@yyyy-MM-dd HH:mm:ss`, so two points of one VM must differ.
    let now = Math.floor(ctx.clock.now() / 1000) * 1000;
    if (previous && now <= Date.parse(previous.createdAt)) now = Date.parse(previous.createdAt) + 1000;
    committed = await writer.commit({
      id: randomUUID(),
      restorePointId: options.restorePointId ?? randomUUID(),
      jobId,
      vmId: vm.id,
      vmName: vm.name,
      createdAt: new Date(now).toISOString(),
      pointType: previous ? 'Increment' : 'Full',
      parentId: previous?.id,
      vm,
    });
  } catch (e) {
    await writer.abort().catch(() => {});
    throw e;
  }
  await registerRestorePoint(ctx, committed.manifest);
  ctx.log.info({ vm: vm.name, point: committed.manifest.id, type: committed.manifest.pointType, stats: committed.stats }, 'backup finished');
  return committed;
}
