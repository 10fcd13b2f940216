import { join } from 'node:path';
import type { AppContext } from '../app-services.js';
import type { GuestWriter } from '../../guestfs/guest-writer.js';
import type { GuestVolume } from '../../guestfs/guest-volumes.js';
import { openGuestFilesystems } from '../../guestfs/open-guest-filesystem.js';
import { openGuestWriter, type GuestWriterTarget } from '../../guestfs/open-guest-writer.js';
import { notFound, OpenemError } from '../../errors.js';
import type { ExposedDisk, VmConfig } from '../../platform/platform.js';

/** Where restored files go: the live VM's disk, exposed for editing in place, and the byte offset and kind of the filesystem on it. */
export interface LiveGuestTarget {
  vm: VmConfig;
  /** Closed by whoever asked for the target, once the writer is done. */
  disk: ExposedDisk;
  partitionOffset: number;
  /** Bytes of that filesystem's partition (or of the disk after the offset). */
  partitionSize: number;
  kind: GuestVolume['kind'];
}

/**
 * Finds the live VM's filesystem that matches the restore point's volume: on the disk of the same name, in the
 * partition of the same number (or the whole disk), of the same kind. The offset is read from the live disk (its
 * partition table may differ from the backup's), and the disk is exposed by the VM's platform, so nothing outside
 * the VM's own disk is ever written.
 */
export async function liveGuestTarget(ctx: AppContext, vmId: string, volume: Pick<GuestVolume, 'diskName' | 'partitionIndex' | 'kind'>): Promise<LiveGuestTarget> {
  const { diskName } = volume;
  const vm = await ctx.platform.findVm(vmId);
  if (!vm) throw notFound(`The original VM of this restore point (id ${vmId}) no longer exists; restore the whole VM first`);
  if (!vm.disks.some((d) => d.name === diskName)) throw notFound(`VM ${vm.name} has no disk ${diskName} any more`);
  const disk = await ctx.platform.openDisk(vm.id, diskName);
  let offset: number;
  let size: number;
  try {
    const opened = await openGuestFilesystems(disk);
    const where = volume.partitionIndex === undefined ? 'on the whole disk' : `in partition #${volume.partitionIndex}`;
    if (opened.found.length === 0) throw new OpenemError('CONFLICT', `VM ${vm.name} disk ${diskName} holds no ${volume.kind} filesystem to restore into: ${opened.reason}`);
    // The partition of the same number; failing that the disk's only filesystem of that kind (a disk repartitioned
    // since the backup still has its one filesystem).
    const ofKind = opened.found.filter((f) => f.kind === volume.kind);
    const same = ofKind.find((f) => f.partition?.index === volume.partitionIndex) ?? (ofKind.length === 1 ? ofKind[0] : undefined);
    if (!same) throw new OpenemError('CONFLICT', `VM ${vm.name} disk ${diskName} holds no ${volume.kind} filesystem ${where} to restore into`);
    offset = same.offset;
    size = same.partition?.size ?? disk.size - same.offset;
  } finally {
    await disk.close();
  }
  return { vm, disk: await ctx.platform.exposeDisk(vm.id, diskName), partitionOffset: offset, partitionSize: size, kind: volume.kind };
}

/** The writer for a live VM's guest filesystem (ext4 through fuse2fs, NTFS through ntfs-3g); it mounts under `<data>/flr-work`. */
export function liveGuestWriter(ctx: AppContext, target: LiveGuestTarget): GuestWriter {
  return openGuestWriter(target.kind, liveGuestWriterTarget(ctx, target));
}

/** The image, partition and work folder a writer of the live VM's filesystem uses. */
export function liveGuestWriterTarget(ctx: AppContext, target: LiveGuestTarget): GuestWriterTarget {
  return { imagePath: target.disk.endpoint.path, offset: target.partitionOffset, size: target.partitionSize, workRoot: join(ctx.config.dataDir, 'flr-work') };
}
