import type { GuestEntry } from '../../guestfs/guest-filesystem.js';
import type { GuestVolume, GuestVolumeSet, LocatedGuestPath } from '../../guestfs/guest-volumes.js';
import type { TaskRecord } from '../../tasks/task-types.js';
import type { VmRestorePointRecord } from '../inventory/restore-point-records.js';
import type { MountListings } from './rendered-listings.js';

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

/** A mount open in this process: its info plus the volumes serving API and FUSE. */
export interface OpenMount {
  info: MountInfo;
  volumes: GuestVolumeSet;
  /** The root folder of each volume a guest path can name (seed 002's FSRoots), as read at mount time. */
  roots: { volume: GuestVolume; entry: GuestEntry }[];
  /** The volume and in-volume path a guest path (`/etc/hosts`, `C:/Users`) names; NOT_FOUND for a drive the guest lacks. */
  locate(guestPath: string): LocatedGuestPath;
  /** Its folder listings as sent, for sending them again (RenderedListings); they go when the mount ends. */
  renderedListings: MountListings;
}

/** The FLR mounts of a server, as the API uses them (MountService implements it). */
export interface FlrMounts {
  /** Starts mounting a restore point (seed 002): a task that finishes when the mount is ready. */
  requestMount(rp: VmRestorePointRecord, requested: MountOsKind, accountId: string): Promise<TaskRecord>;
  /** Adds a line to the mount's restore session (downloads, restores started through the mount). */
  recordActivity(mount: OpenMount, text: string): Promise<void>;
  /**
   * A live mount by restore point and number (NOT_FOUND otherwise, also when `visible` refuses the account that
   * made it: such a mount is neither opened here nor counted as used); `use: false` does not count as use.
   */
  get(vmRestorePointId: string, number: number, options?: { use?: boolean; visible?: (ownerAccountId: string) => boolean }): Promise<OpenMount>;
  /** Keeps a mount from expiring while it is read from; call the returned function when done. */
  hold(mount: OpenMount): () => void;
  /** The restore point's mounts made by accounts `visible` allows; no other is opened. */
  list(vmRestorePointId: string, visible: (ownerAccountId: string) => boolean): Promise<OpenMount[]>;
  unmount(vmRestorePointId: string, number: number): Promise<void>;
  /** The open mounts' folder listings kept as sent (RenderedListings), for monitoring. */
  readonly listings: { readonly bytes: number; readonly size: number; readonly hits: number };
}
