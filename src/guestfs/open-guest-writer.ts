import { OpenemError } from '../errors.js';
import { Fuse2fsWriter } from './ext4/fuse2fs-writer.js';
import { Ntfs3gWriter } from './ntfs/ntfs3g-writer.js';
import type { GuestFilesystemKind } from './guest-filesystem-probe.js';
import type { GuestWriter } from './guest-writer.js';

/** Where a writer finds the filesystem to change: a disk image, the filesystem's offset in it, a private work folder. */
export interface GuestWriterTarget {
  imagePath: string;
  offset: number;
  /** Bytes of the filesystem's partition (or of the disk after `offset`). */
  size: number;
  /** Private folder for the driver's mount point and links (`<data>/flr-work`). */
  workRoot: string;
}

/** The writer for each filesystem kind, through that filesystem's maintained driver (ext4: fuse2fs; NTFS: ntfs-3g on a partition view). */
const WRITERS: Partial<Record<GuestFilesystemKind, (target: GuestWriterTarget) => GuestWriter>> = {
  ext4: (target) => new Fuse2fsWriter(target),
  ntfs: (target) => new Ntfs3gWriter(target),
};

export function openGuestWriter(kind: GuestFilesystemKind, target: GuestWriterTarget): GuestWriter {
  const writer = WRITERS[kind];
  if (!writer) throw new OpenemError('NOT_IMPLEMENTED', `restoring files into ${kind.toUpperCase()} volumes is not supported yet`);
  return writer(target);
}
