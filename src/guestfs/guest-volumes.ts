import type { Partition } from '../disks/partition-table.js';
import type { GuestFilesystem } from './guest-filesystem.js';
import type { GuestFilesystemKind, VolumeOsKind } from './guest-filesystem-probe.js';
import { normaliseGuestPath, parseGuestPath } from './guest-path.js';
import type { FoundGuestFilesystem } from './open-guest-filesystem.js';

/** One filesystem of a VM: where it is (disk, partition), what it is, and how the guest names it. */
export interface GuestVolume {
  /** Stable for the VM's disks: `<disk>` for a whole-disk filesystem, `<disk>/<partition number>` otherwise. */
  id: string;
  diskName: string;
  /** The partition's number in its table (1-based); absent for a whole-disk filesystem. */
  partitionIndex?: number;
  /** Byte offset of the filesystem on its disk. */
  offset: number;
  kind: GuestFilesystemKind;
  osKind: VolumeOsKind;
  /** The drive letter (`C`) a Windows guest gives it; absent for filesystems addressed from `/` (ext4). */
  driveLetter?: string;
  fs: GuestFilesystem;
}

/** Where a guest path leads: a volume, and the path inside it. */
export interface LocatedGuestPath {
  volume: GuestVolume;
  path: string;
}

export function volumeId(diskName: string, partition?: Pick<Partition, 'index'>): string {
  return partition ? `${diskName}/${partition.index}` : diskName;
}

/** A volume before the VM's drive letters are handed out; `lettered` if its kind gets one (NTFS). */
export type VolumeCandidate = Omit<GuestVolume, 'driveLetter'> & { lettered: boolean };

/** The filesystems found on one disk, as volumes. */
export function volumesOfDisk(diskName: string, found: FoundGuestFilesystem[]): VolumeCandidate[] {
  return found.map((f) => ({
    id: volumeId(diskName, f.partition),
    diskName,
    ...(f.partition ? { partitionIndex: f.partition.index } : {}),
    offset: f.offset,
    kind: f.kind,
    osKind: f.osKind,
    fs: f.fs,
    lettered: f.driveLetters,
  }));
}

const FIRST_DRIVE = 'C'.charCodeAt(0);

/**
 * A VM's volumes, in disk and partition order, and how guest paths name them:
 * - a volume of a kind the guest letters (NTFS) gets the next drive letter from `C`, in that order, and
 *   `C:/Users` names `/Users` on it;
 * - the primary volume is the first lettered one (Windows' system volume is `C:`), else the first volume: `/etc`
 *   names `/etc` on it, and so does `C:/etc` when no volume has a letter (a Linux guest has one root, and the seeds
 *   write Windows-style paths);
 * - a volume with neither is not reachable by path (a Linux guest's second filesystem: where it is mounted lives in
 *   the guest's fstab, which openem does not read).
 */
export class GuestVolumeSet {
  readonly volumes: readonly GuestVolume[];

  constructor(candidates: VolumeCandidate[]) {
    let next = FIRST_DRIVE;
    this.volumes = candidates.map(({ lettered, ...v }) => {
      if (!lettered || next > 'Z'.charCodeAt(0)) return v;
      return { ...v, driveLetter: String.fromCharCode(next++) };
    });
  }

  /** The volume `/` names; `undefined` for a VM without a filesystem openem reads. */
  get primary(): GuestVolume | undefined {
    return this.volumes.find((v) => v.driveLetter) ?? this.volumes[0];
  }

  /** What the guest is, from the filesystem found on its primary volume (ext4: Linux; NTFS: Windows). */
  get osKind(): VolumeOsKind | undefined {
    return this.primary?.osKind;
  }

  /** Volumes a guest path can name: the primary one, and every lettered one. */
  get addressable(): GuestVolume[] {
    const primary = this.primary;
    return this.volumes.filter((v) => v === primary || v.driveLetter);
  }

  /** The volume and in-volume path a guest path (`/etc/hosts`, `C:/Users`) names; `undefined` for a drive the guest lacks. */
  locate(guestPath: string): LocatedGuestPath | undefined {
    const { drive, path } = parseGuestPath(guestPath);
    const primary = this.primary;
    if (!primary) return undefined;
    if (drive === undefined || !this.volumes.some((v) => v.driveLetter)) return { volume: primary, path };
    const volume = this.volumes.find((v) => v.driveLetter === drive);
    return volume && { volume, path };
  }

  /** The guest path of `path` on `volume`: `C:/Users` on a lettered volume, `/etc` on the primary one. */
  guestPathOf(volume: GuestVolume, path: string): string | undefined {
    const p = normaliseGuestPath(path);
    if (volume.driveLetter) return `${volume.driveLetter}:${p}`;
    return volume === this.primary ? p : undefined;
  }
}
