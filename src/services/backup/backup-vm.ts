import { randomUUID } from 'node:crypto';
import type { AppContext } from '../app-services.js';
import { conflict, notFound, OpenemError } from '../../errors.js';
import { describeRestoreMark } from '../../platform/restore-incomplete-mark.js';
import type { BackupProgress, BackupStats, RestorePointManifest } from '../../repository/repository.js';
import { byAge } from '../../repository/repository-catalog.js';
import type { VmConfig } from '../../platform/platform.js';
import type { BlockSource } from '../../disks/block-source.js';
import { registerRestorePoint } from './register-restore-point.js';
import { defaultJobFor } from './jobs.js';
import type { VmClaim } from '../../tasks/vm-claims.js';

export interface BackupOptions {
  jobId?: string;
  /** Groups the VM points of one job run under one EM RestorePoint. */
  restorePointId?: string;
  signal?: AbortSignal;
  onProgress?: (p: BackupProgress & { vmName: string }) => void;
  /** The VM, already claimed by the caller (a job claims all its VMs first); kept claimed after the backup. */
  claim?: VmClaim;
  /** What the claim names as holder when this backup claims the VM itself. */
  holder?: string;
  /** How long to wait for other work on the VM (a restore) to finish; 0: refuse at once. */
  waitMs?: number;
}

/** What the backup session says about a VM's backup beside its sizes (the task session's Reason). */
export interface BackupNote {
  text: string;
  /** Makes the VM's result Warning (the guest has an agent that did not freeze it). */
  warning?: boolean;
}

export interface BackupResult {
  manifest: RestorePointManifest;
  stats: BackupStats;
  notes: BackupNote[];
}

/** How a running VM's disk was read live, when its platform says (a powered-off VM's disk says nothing). */
function consistencyNote(diskName: string, source: BlockSource): BackupNote | undefined {
  const c = source.consistency;
  if (!c) return undefined;
  if (c.kind === 'frozen') return { text: `Disk ${diskName}: read live with the guest's filesystems frozen through the QEMU guest agent` };
  return { text: `Disk ${diskName}: read live, crash-consistent: ${c.reason ?? 'the guest was not frozen'}`, ...(c.freezeFailed ? { warning: true } : {}) };
}

/** The newest restore point of a VM, which the next backup is an increment of. */
async function latestManifest(ctx: AppContext, vmId: string): Promise<RestorePointManifest | undefined> {
  const mine = (await ctx.repository.listManifests()).filter((m) => m.vmId === vmId).sort(byAge);
  const last = mine[mine.length - 1];
  return last ? ctx.repository.readManifest(last.id) : undefined;
}

/** The config a restore point keeps: a restore-incomplete mark describes the live VM, not the point. */
function withoutRestoreMark(vm: VmConfig): VmConfig {
  const { restoreIncomplete: _mark, ...config } = vm;
  return config;
}

/**
 * Backs up one VM: every disk block by block into the repository (an Increment when an earlier point
 * exists: only changed blocks are stored), the manifest last, then the catalog index and the store rows.
 */
export async function backupVm(ctx: AppContext, vmName: string, options: BackupOptions = {}): Promise<BackupResult> {
  const vm = await ctx.platform.findVm(vmName);
  if (!vm) throw notFound(`VM ${vmName} was not found`);
  const jobId = options.jobId ?? (await defaultJobFor(ctx, vm.name)).id;
  if (options.claim && options.claim.vmId !== vm.id) throw new OpenemError('INTERNAL', `the claim handed to the backup of VM ${vm.name} is for another VM`);
  // One piece of work per VM (issue 9 §4): no restore writes the disks while they are read.
  const claim = options.claim ?? (await ctx.vmClaims.claim(vm, 'backup', options.holder ?? `backup of VM ${vm.name}`, { waitMs: options.waitMs, signal: options.signal }));
  let committed: BackupResult;
  try {
    // Read again under the claim: a restore that held the VM may have brought an older configuration back.
    const claimed = await ctx.platform.findVm(vm.id);
    if (!claimed) throw notFound(`VM ${vmName} was not found`);
    // A half-restored disk would become a restore point nobody can trust (issue #9 §6); an operator who abandoned
    // the restore has accepted the disk as it is.
    if (claimed.restoreIncomplete && claimed.restoreIncomplete.state !== 'abandoned') throw conflict(`cannot back up: ${describeRestoreMark(claimed.name, claimed.restoreIncomplete)}`);
    // Should another node take the VM over (believing this process dead), the backup stops reading it.
    const signal = options.signal ? AbortSignal.any([options.signal, claim.lost]) : claim.lost;
    committed = await backUpDisks(ctx, claimed, jobId, { ...options, signal });
  } finally {
    if (!options.claim) await claim.release();
  }
  await registerRestorePoint(ctx, committed.manifest);
  ctx.log.info({ vm: vm.name, point: committed.manifest.id, type: committed.manifest.pointType, stats: committed.stats, notes: committed.notes.map((n) => n.text) }, 'backup finished');
  return committed;
}

/** Reads the disks into the repository and commits the manifest. */
async function backUpDisks(ctx: AppContext, vm: VmConfig, jobId: string, options: BackupOptions): Promise<BackupResult> {
  const previous = await latestManifest(ctx, vm.id);
  const writer = await ctx.repository.beginBackup(vm.id);
  let committed: BackupResult | undefined;
  const notes: BackupNote[] = [];
  try {
    for (const d of vm.disks) {
      const source = await ctx.platform.openDisk(vm.id, d.name, { changeTracking: true });
      try {
        await writer.addDisk(d.name, source, {
          previous: previous?.disks.find((p) => p.name === d.name),
          signal: options.signal,
          onProgress: (p) => options.onProgress?.({ ...p, vmName: vm.name }),
          onNote: (text) => notes.push({ text }),
        });
        const consistency = consistencyNote(d.name, source);
        if (consistency) notes.push(consistency);
      } finally {
        await source.close();
      }
    }
    // Second-resolution, monotonic: EM names points `<vm>@yyyy-MM-dd HH:mm:ss`, so two points of one VM must differ.
    let now = Math.floor(ctx.clock.now() / 1000) * 1000;
    if (previous && now <= Date.parse(previous.createdAt)) now = Date.parse(previous.createdAt) + 1000;
    const done = await writer.commit({
      id: randomUUID(),
      restorePointId: options.restorePointId ?? randomUUID(),
      jobId,
      vmId: vm.id,
      vmName: vm.name,
      createdAt: new Date(now).toISOString(),
      pointType: previous ? 'Increment' : 'Full',
      parentId: previous?.id,
      vm: withoutRestoreMark(vm),
    });
    committed = { ...done, notes };
  } catch (e) {
    await writer.abort().catch(() => {});
    throw e;
  }
  return committed;
}
