import type { AppContext } from '../app-services.js';
import { badRequest, notFound } from '../../errors.js';
import type { GuestVolume } from '../../guestfs/guest-volumes.js';
import { displayGuestPath, type GuestWriteResult } from '../../guestfs/guest-writer.js';
import { parentComponentsOf, planGuestItem } from './plan-guest-item.js';
import { liveGuestTarget, liveGuestWriter } from './write-to-live-vm.js';

export interface GuestRestoreInput {
  /** The restore point's volume (a mount's, or one opened for this restore). */
  volume: GuestVolume;
  vmId: string;
  /** The path inside that volume. */
  guestPath: string;
  /** false: an existing name is kept and the restored copy goes beside it as `RESTORED_<name>`. */
  overwrite: boolean;
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
export async function restoreGuestPath(ctx: AppContext, input: GuestRestoreInput): Promise<{ written: number; target: string }> {
  const fs = input.volume.fs;
  const entry = await fs.stat(input.guestPath);
  if (!entry) throw notFound(`${input.guestPath} does not exist in the restore point`);
  if (entry.path === '/') throw badRequest('cannot replace the guest root folder');
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
