import type { GuestFilesystem } from '../../guestfs/guest-filesystem.js';

/** Seed 002's `OsKind`: what the client says the guest is. */
export type MountOsKind = 'Linux' | 'Windows';

/** One mounted restore point as clients see it. */
export interface MountInfo {
  /** Row id in the `mounts` table. */
  id: string;
  vmRestorePointId: string;
  /** Small integer per restore point (seed 002: `.../mounts/1`). */
  number: number;
  /** What the client asked for (Windows when absent, seed 002). */
  requestedOsKind: MountOsKind;
  /** What the mounted guest really is (detected, as Veeam Backup & Replication does). */
  detectedOsKind: MountOsKind;
  vmName: string;
  vmId: string;
  accountId: string;
  createdAt: number;
  lastUsedAt: number;
  /** The read-only FUSE folder `<flrRoot>/<vm-name>` while it is mounted. */
  folder?: string;
  /** Why there is no folder (no /dev/fuse, load failure, permission…). */
  folderUnavailable?: string;
  /** The FileLevelRestore restore session recording what is done through this mount, Working while mounted. */
  restoreSessionId?: string;
}

/** A mount open in this process: its info plus the reader serving API and FUSE. */
export interface OpenMount {
  info: MountInfo;
  fs: GuestFilesystem;
}
