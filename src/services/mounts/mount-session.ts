import type { AppContext } from '../app-services.js';
import type { LiveMount } from './live-mount.js';
import { setMountSession } from './mount-rows.js';

/**
 * Like Veeam Backup & Replication's file-level restore session, a mount has a restore session (JobType
 * FileLevelRestore) that is Working while the restore point is mounted, logs what is done through it, and
 * stops when the mount ends (issue #5 §1). Starts it and records it on the mount and its row.
 */
export async function startMountSession(ctx: AppContext, mount: LiveMount): Promise<void> {
  const s = await ctx.restoreSessions.create({ jobType: 'FileLevelRestore', vmDisplayName: mount.info.vmName, vmRestorePointId: mount.info.vmRestorePointId, accountId: mount.info.accountId });
  mount.info.restoreSessionId = s.id;
  const where = mount.info.folder ? `guest files in ${mount.info.folder}` : mount.info.folderUnavailable ?? 'no local folder';
  await ctx.restoreSessions.update(s.id, { state: 'Working', log: `Mounted restore point ${mount.info.vmRestorePointId} as mount ${mount.info.number} (${where})` });
  const { requestedOsKind, detectedOsKind } = mount.info;
  if (requestedOsKind !== detectedOsKind) {
    // Seed 002: the guest OS is detected on the mounted backup; the client's OsKind does not change what is read.
    await ctx.restoreSessions.log(s.id, `OsKind ${requestedOsKind} was requested, but the guest's volumes are ${detectedOsKind}; mounted as ${detectedOsKind}, as detected`);
  }
  await setMountSession(ctx, mount.info.id, s.id);
}

/** Stops the mount's session, if it has one, with `Mount <number> <why>`; a failure is logged, not thrown (the mount is gone either way). */
export async function finishMountSession(ctx: AppContext, mount: LiveMount, why: string): Promise<void> {
  if (!mount.info.restoreSessionId) return;
  await ctx.restoreSessions.finish(mount.info.restoreSessionId, 'Success', `Mount ${mount.info.number} ${why}`).catch((e) => ctx.log.warn({ err: e }, 'could not stop the mount session'));
}
