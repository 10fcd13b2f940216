import type { AppContext } from '../app-services.js';
import { badRequest, notFound } from '../../errors.js';
import type { GuestVolume } from '../../guestfs/guest-volumes.js';
import { displayGuestPath, type GuestWriteResult } from '../../guestfs/guest-writer.js';
import { parentComponentsOf, planGuestItem } from './plan-guest-item.js';
import { restoreNtfsPermissions } from '../../guestfs/ntfs/ntfs3g-permissions.js';
import { liveGuestTarget, liveGuestWriter, liveGuestWriterTarget } from './write-to-live-vm.js';
import { permissionsJournal } from './permissions-journal.js';

/** EM: PermissionsOnly "is supported for Windows machines only"; refused for any other guest before anything is done. */
export const PERMISSIONS_ONLY_WINDOWS = 'PermissionsOnly restore is supported for Windows guests only';

export interface GuestRestoreInput {
  /** The restore point's volume (a mount's, or one opened for this restore). */
  volume: GuestVolume;
  vmId: string;
  /** The path inside that volume. */
  guestPath: string;
  /** false: an existing name is kept and the restored copy goes beside it as `RESTORED_<name>`. */
  overwrite: boolean;
  /** Only the security descriptors of the existing item and what is below it (NTFS only; ntfs3g-permissions.ts). */
  permissionsOnly?: boolean;
  /** The restore session: a PermissionsOnly restore journals the descriptors it replaces under it (permissions-journal.ts). */
  sessionId?: string;
  signal?: AbortSignal;
  onProgress(percent: number): void;
  log(text: string): void;
}

/**
 * Restores one guest file or folder from a restore point to its original place in the live VM (seed 000):
 * streams it from the repository straight into the VM's filesystem through a GuestWriter, which checks free
 * space first, writes beside the existing item and renames over it, and ends with a filesystem check — so a full
 * disk or a failure half-way leaves the guest as it was.
 */
export async function restoreGuestPath(ctx: AppContext, input: GuestRestoreInput): Promise<{ written: number; target: string; summary?: string }> {
  const fs = input.volume.fs;
  const entry = await fs.stat(input.guestPath);
  if (!entry) throw notFound(`${input.guestPath} does not exist in the restore point`);
  if (entry.path === '/') throw badRequest('cannot replace the guest root folder');
  if (input.permissionsOnly) return restoreGuestPermissions(ctx, input);
  const target = await liveGuestTarget(ctx, input.vmId, input.volume);
  let result: GuestWriteResult;
  try {
    const planned = await planGuestItem(fs, entry, input.signal);
    input.log(`Restoring ${entry.path} (${planned.count} item(s), ${planned.dataBytes} bytes of data) to VM ${target.vm.name}`);
    result = await liveGuestWriter(ctx, target).write(
      { parent: await parentComponentsOf(fs, entry.path), item: planned.item, onExisting: input.overwrite ? 'replace' : 'keep-both' },
      // Streaming the data is most of the work; unmounting and checking the filesystem is the last tenth.
      { onProgress: (done, total) => input.onProgress(total ? (done / total) * 90 : 90), log: input.log, signal: input.signal },
    );
  } finally {
    await target.disk.close();
  }
  if (result.createdParents.length) input.log(`Created missing folders: ${result.createdParents.map(displayGuestPath).join(', ')}`);
  const targetPath = displayGuestPath(result.target);
  input.log(`Wrote ${result.written} item(s) to ${targetPath}${result.replaced ? ', replacing the one there' : ''}`);
  return { written: result.written, target: targetPath };
}

/**
 * EM's PermissionsOnly restore: the security descriptor of the existing item in the live VM (and of every item below
 * a folder that both have) is set to the restore point's; nothing else is written (ntfs3g-permissions.ts). Windows
 * (NTFS) guests only, as EM says; the routes refuse it for others before anything starts.
 */
async function restoreGuestPermissions(ctx: AppContext, input: GuestRestoreInput): Promise<{ written: number; target: string; summary: string }> {
  const fs = input.volume.fs;
  const entry = (await fs.stat(input.guestPath))!;
  if (input.volume.kind !== 'ntfs') throw badRequest(PERMISSIONS_ONLY_WINDOWS);
  const target = await liveGuestTarget(ctx, input.vmId, input.volume);
  try {
    const planned = await planGuestItem(fs, entry, input.signal);
    input.log(`Restoring the permissions of ${entry.path} (${planned.count} item(s)) in VM ${target.vm.name}; data, streams, times and flags are left as they are`);
    const r = await restoreNtfsPermissions(
      liveGuestWriterTarget(ctx, target),
      { parent: await parentComponentsOf(fs, entry.path), item: planned.item },
      {
        onProgress: (done, total) => input.onProgress(total ? (done / total) * 90 : 90),
        log: input.log,
        signal: input.signal,
        journal: input.sessionId ? permissionsJournal(ctx, { sessionId: input.sessionId, vmId: target.vm.id, vmName: target.vm.name, diskName: input.volume.diskName, partitionIndex: input.volume.partitionIndex }) : undefined,
      },
    );
    const where = displayGuestPath(r.target);
    const summary = `Restored the permissions of ${where}: ${r.changed} item(s) changed, ${r.unchanged} already as in the restore point` + (r.skipped ? `, ${r.skipped} not in the live VM or without a descriptor (left alone)` : '');
    input.log(summary);
    return { written: r.changed, target: where, summary };
  } finally {
    await target.disk.close();
  }
}
