import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppContext } from '../app-services.js';
import { writeGuestFiles } from '../../guestfs/ext4-writer.js';
import { openGuestFilesystem } from '../../guestfs/open-guest-filesystem.js';
import { notFound } from '../../errors.js';
import type { GuestFilesystem } from '../../guestfs/guest-filesystem.js';
import { extractGuestItems, keepBothPath, planGuestItems } from './extract-guest-items.js';
import { liveGuestTarget } from './write-to-live-vm.js';

export interface GuestRestoreInput {
  /** The restore point's filesystem (a mount's, or one opened for this restore). */
  fs: GuestFilesystem;
  vmId: string;
  diskName: string;
  guestPath: string;
  /** false: an existing name is kept and the restored copy goes beside it as `RESTORED_<name>`. */
  overwrite: boolean;
  signal?: AbortSignal;
  onProgress(percent: number): void;
  log(text: string): void;
}

/**
 * Restores one guest file or folder from a restore point to its original place in the live VM (seed 000):
 * copies the bytes out of the point, then writes them into the VM's ext4 in one debugfs batch that checks free
 * space first and ends with `e2fsck -fn`, so a full disk fails the restore with the filesystem untouched.
 */
export async function restoreGuestPath(ctx: AppContext, input: GuestRestoreInput): Promise<{ written: number; target: string }> {
  const entry = await input.fs.stat(input.guestPath);
  if (!entry) throw notFound(`${input.guestPath} does not exist in the restore point`);
  const target = await liveGuestTarget(ctx, input.vmId, input.diskName);
  const exists = await liveExists(ctx, target.vm.id, input.diskName, entry.path);
  const targetPath = exists && !input.overwrite ? keepBothPath(entry.path) : entry.path;
  const plan = await planGuestItems(input.fs, entry, targetPath);
  input.log(`Restoring ${entry.path} (${plan.entries.length} item(s), ${plan.bytes} bytes) to ${targetPath} on VM ${target.vm.name}`);

  const workRoot = join(ctx.config.dataDir, 'flr-work');
  await mkdir(workRoot, { recursive: true });
  const workDir = await mkdtemp(join(workRoot, 'restore-'));
  try {
    // Copying out is most of the work; writing and checking the image is the last tenth.
    const items = await extractGuestItems(input.fs, plan, workDir, (done, total) => input.onProgress(total ? (done / total) * 90 : 90), input.signal);
    input.signal?.throwIfAborted();
    const result = await writeGuestFiles(target.imagePath, target.partitionOffset, items);
    if (result.createdParents.length) input.log(`Created missing folders: ${result.createdParents.join(', ')}`);
    input.log(`Wrote ${result.written.length} item(s); e2fsck -fn reports the filesystem clean`);
    return { written: result.written.length, target: targetPath };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function liveExists(ctx: AppContext, vmId: string, diskName: string, path: string): Promise<boolean> {
  const disk = await ctx.platform.openDisk(vmId, diskName);
  try {
    const opened = await openGuestFilesystem(disk);
    return opened.fs ? (await opened.fs.stat(path)) !== undefined : false;
  } finally {
    await disk.close();
  }
}
