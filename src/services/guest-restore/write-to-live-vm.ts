import { join } from 'node:path';
import type { AppContext } from '../app-services.js';
import { Fuse2fsWriter } from '../../guestfs/ext4/fuse2fs-writer.js';
import type { GuestWriter } from '../../guestfs/guest-writer.js';
import { openGuestFilesystem } from '../../guestfs/open-guest-filesystem.js';
import { notFound, OpenemError } from '../../errors.js';
import type { ExposedDisk, VmConfig } from '../../platform/platform.js';

/** Where restored files go: the live VM's disk, exposed for editing in place, and the byte offset of its ext4 filesystem. */
export interface LiveGuestTarget {
  vm: VmConfig;
  /** Closed by whoever asked for the target, once the writer is done. */
  disk: ExposedDisk;
  partitionOffset: number;
}

/**
 * Finds the original VM's filesystem on the same disk the restore point's files came from. The offset is read
 * from the live disk (its partition table may differ from the backup's), and the disk is exposed by the VM's
 * platform, so nothing outside the VM's own disk is ever written.
 */
export async function liveGuestTarget(ctx: AppContext, vmId: string, diskName: string): Promise<LiveGuestTarget> {
  const vm = await ctx.platform.findVm(vmId);
  if (!vm) throw notFound(`The original VM of this restore point (id ${vmId}) no longer exists; restore the whole VM first`);
  if (!vm.disks.some((d) => d.name === diskName)) throw notFound(`VM ${vm.name} has no disk ${diskName} any more`);
  const disk = await ctx.platform.openDisk(vm.id, diskName);
  let offset: number;
  try {
    const opened = await openGuestFilesystem(disk);
    if (!opened.fs) throw new OpenemError('CONFLICT', `VM ${vm.name} disk ${diskName} holds no ext4 filesystem to restore into: ${opened.reason}`);
    offset = opened.offset;
  } finally {
    await disk.close();
  }
  return { vm, disk: await ctx.platform.exposeDisk(vm.id, diskName), partitionOffset: offset };
}

/** The writer for a live VM's guest filesystem (ext4 through fuse2fs); it mounts under `<data>/flr-work`. */
export function liveGuestWriter(ctx: AppContext, target: LiveGuestTarget): GuestWriter {
  return new Fuse2fsWriter({ imagePath: target.disk.endpoint.path, offset: target.partitionOffset, workRoot: join(ctx.config.dataDir, 'flr-work') });
}
