import type { Partition } from '../disks/partition-table.js';
import type { GuestFilesystem } from './guest-filesystem.js';
import type { GuestFilesystemKind, VolumeOsKind } from './guest-filesystem-probe.js';
import { normaliseGuestPath, parseGuestPath } from './guest-path.js';
import type { FoundGuestFilesystem } from './open-guest-filesystem.js';
import { windowsVolumeRole, type WindowsVolumeRole } from './windows-volume-role.js';

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

/**
 * A volume before the VM's drive letters are handed out: `lettered` if its kind gets one (NTFS), and then what
 * Windows makes of it (absent: `data`).
 */
export type VolumeCandidate = Omit<GuestVolume, 'driveLetter'> & { lettered: boolean; windowsRole?: WindowsVolumeRole };

/** The filesystems found on one disk, as volumes; a lettered one's Windows role is read from its partition and its root. */
export async function volumesOfDisk(diskName: string, found: FoundGuestFilesystem[]): Promise<VolumeCandidate[]> {
  const out: VolumeCandidate[] = [];
  for (const f of found) {
    out.push({
      id: volumeId(diskName, f.partition),
      diskName,
      ...(f.partition ? { partitionIndex: f.partition.index } : {}),
      offset: f.offset,
      kind: f.kind,
      osKind: f.osKind,
      fs: f.fs,
      lettered: f.driveLetters,
      ...(f.driveLetters ? { windowsRole: await windowsVolumeRole(f.fs, f.partition) } : {}),
    });
  }
  return out;
}

const FIRST_DRIVE_LETTER = 'C';
const FIRST_DRIVE = FIRST_DRIVE_LETTER.charCodeAt(0);
const LAST_DRIVE = 'Z'.charCodeAt(0);

/**
 * A VM's volumes, in disk and partition order, and how guest paths name them:
 * - a volume of a kind the guest letters (NTFS) gets a drive letter as Windows hands them out: its system volume
 *   `C:`, then the other volumes `D:`, `E:`, … in disk and partition order; the volumes Windows hides (recovery, the
 *   boot partition setup makes) get none. `C:/Users` names `/Users` on the `C:` volume;
 * - the primary volume is `C:` (Windows' system volume), else the first volume: `/etc`
 *   names `/etc` on it, and so does `C:/etc` when no volume has a letter (a Linux guest has one root, and the seeds
 *   write Windows-style paths);
 * - a volume with neither is not reachable by path (a Linux guest's second filesystem: where it is mounted lives in
 *   the guest's fstab, which openem does not read).
 */
export class GuestVolumeSet {
  readonly volumes: readonly GuestVolume[];

  constructor(candidates: VolumeCandidate[]) {
    const letters = new Map<VolumeCandidate, string>();
    let next = FIRST_DRIVE;
    const hand = (c: VolumeCandidate) => {
      if (next <= LAST_DRIVE) letters.set(c, String.fromCharCode(next++));
    };
    const lettered = candidates.filter((c) => c.lettered && c.windowsRole !== 'hidden');
    for (const c of lettered) if (c.windowsRole === 'system') hand(c);
    for (const c of lettered) if (c.windowsRole !== 'system') hand(c);
    this.volumes = candidates.map((c) => {
      const { lettered: _lettered, windowsRole: _role, ...v } = c;
      const driveLetter = letters.get(c);
      return driveLetter ? { ...v, driveLetter } : v;
    });
  }

  /** The volume `/` names; `undefined` for a VM without a filesystem openem reads. */
  get primary(): GuestVolume | undefined {
    return this.volumes.find((v) => v.driveLetter === FIRST_DRIVE_LETTER) ?? this.volumes[0];
  }

  /** What the guest is, from the filesystem found on its primary volume (ext4: Linux; NTFS: Windows). */
  get osKind(): VolumeOsKind | undefined {
    return this.primary?.osKind;
  }

  /** Volumes a guest path can name: the primary one, and every lettered one, in drive-letter order (`C:` first). */
  get addressable(): GuestVolume[] {
    const primary = this.primary;
    const lettered = this.volumes.filter((v) => v.driveLetter).sort((a, b) => (a.driveLetter! < b.driveLetter! ? -1 : 1));
    return lettered.length ? lettered : primary ? [primary] : [];
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
