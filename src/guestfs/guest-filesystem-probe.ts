import type { BlockSource } from '../disks/block-source.js';
import type { GuestFilesystem } from './guest-filesystem.js';

/** The filesystems openem reads. */
export type GuestFilesystemKind = 'ext4' | 'ntfs';

/** What a filesystem says about the guest's operating system (seed 002's `OsKind`). */
export type VolumeOsKind = 'Linux' | 'Windows';

/**
 * One filesystem backend as the opener sees it: a cheap look for its signature, then the reader. A backend is a
 * folder (`guestfs/ext4/`) that exports one probe; `openGuestFilesystems` tries each probe on every volume.
 */
export interface GuestFilesystemProbe {
  kind: GuestFilesystemKind;
  /** The guest OS a volume of this kind means: ext4 is Linux, NTFS Windows. */
  osKind: VolumeOsKind;
  /** Whether the guest addresses volumes of this kind by drive letter (NTFS), or by one `/` root (ext4). */
  driveLetters: boolean;
  /** Whether the volume (a partition, or a whole disk) starts with this filesystem's signature. */
  detect(volume: BlockSource): Promise<boolean>;
  /** Opens the filesystem at the start of `volume`; CORRUPT (or another catalogue error) when it cannot be read. */
  open(volume: BlockSource): Promise<GuestFilesystem>;
}
