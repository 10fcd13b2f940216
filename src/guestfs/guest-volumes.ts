import type { Partition, PartitionTable } from '../disks/partition-table.js';
import type { GuestFilesystem } from './guest-filesystem.js';
import type { GuestFilesystemKind, VolumeOsKind } from './guest-filesystem-probe.js';
import { normaliseGuestPath, parseGuestPath } from './guest-path.js';
import type { FoundGuestFilesystem } from './open-guest-filesystem.js';
import { namesVolume, type MountedDevice, type WindowsVolumeAddress } from './windows-mounted-devices.js';
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
 * A volume before the VM's drive letters are handed out: `lettered` if its kind gets one (NTFS), what Windows makes
 * of it (absent: `data`), and how Windows' MountedDevices would name it.
 */
export type VolumeCandidate = Omit<GuestVolume, 'driveLetter'> & { lettered: boolean; windowsRole?: WindowsVolumeRole; windowsAddress?: WindowsVolumeAddress };

/** The filesystems found on one disk, as volumes; a lettered one's Windows role is read from its partition and its root. */
export async function volumesOfDisk(diskName: string, found: FoundGuestFilesystem[], table?: PartitionTable): Promise<VolumeCandidate[]> {
  const out: VolumeCandidate[] = [];
  for (const f of found) {
    const address = windowsAddressOf(f, table);
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
      ...(f.driveLetters && address ? { windowsAddress: address } : {}),
    });
  }
  return out;
}

function windowsAddressOf(f: FoundGuestFilesystem, table?: PartitionTable): WindowsVolumeAddress | undefined {
  if (!f.partition || !table) return undefined;
  if (table.scheme === 'mbr') return { mbrSignature: table.diskSignature, offset: f.partition.start };
  return f.partition.guid ? { gptPartition: f.partition.guid } : undefined;
}

const FIRST_DRIVE = 'C'.charCodeAt(0);
const LAST_DRIVE = 'Z'.charCodeAt(0);

/**
 * A VM's volumes, in disk and partition order, and how guest paths name them:
 * - a volume of a kind the guest letters (NTFS) gets the drive letter Windows gave it in its MountedDevices (the
 *   system volume's SYSTEM hive), when that names it. The others get the letters free there, as Windows would hand
 *   them out: the system volume first (`C:` on a guest without MountedDevices), then the other volumes in disk and
 *   partition order; the volumes Windows hides (recovery, the boot partition setup makes) get none. `C:/Users` names
 *   `/Users` on the `C:` volume;
 * - the primary volume is the first by drive letter (Windows' `C:`), else the first volume: `/etc`
 *   names `/etc` on it, and so does `C:/etc` when no volume has a letter (a Linux guest has one root, and the seeds
 *   write Windows-style paths);
 * - a volume with neither is not reachable by path (a Linux guest's second filesystem: where it is mounted lives in
 *   the guest's fstab, which openem does not read).
 */
export class GuestVolumeSet {
  readonly volumes: readonly GuestVolume[];

  /** `mountedDevices`: the letters the guest's MountedDevices holds (readMountedDevices); none by default. */
  constructor(candidates: VolumeCandidate[], mountedDevices: ReadonlyMap<string, MountedDevice> = new Map()) {
    const letters = new Map<VolumeCandidate, string>();
    const taken = new Set<string>();
    for (const [letter, device] of [...mountedDevices].sort(([a], [b]) => (a < b ? -1 : 1))) {
      taken.add(letter);
      const named = candidates.find((c) => c.lettered && !letters.has(c) && namesVolume(device, c.windowsAddress));
      if (named) letters.set(named, letter);
    }
    const rest = candidates.filter((c) => c.lettered && c.windowsRole !== 'hidden' && !letters.has(c));
    let next = FIRST_DRIVE;
    for (const c of [...rest.filter((r) => r.windowsRole === 'system'), ...rest.filter((r) => r.windowsRole !== 'system')]) {
      while (next <= LAST_DRIVE && taken.has(String.fromCharCode(next))) next++;
      if (next > LAST_DRIVE) break;
      letters.set(c, String.fromCharCode(next++));
    }
    this.volumes = candidates.map((c) => {
      const { lettered: _lettered, windowsRole: _role, windowsAddress: _address, ...v } = c;
      const driveLetter = letters.get(c);
      return driveLetter ? { ...v, driveLetter } : v;
    });
  }

  /** The volume `/` names; `undefined` for a VM without a filesystem openem reads. */
  get primary(): GuestVolume | undefined {
    return this.byLetter()[0] ?? this.volumes[0];
  }

  /** What the guest is, from the filesystem found on its primary volume (ext4: Linux; NTFS: Windows). */
  get osKind(): VolumeOsKind | undefined {
    return this.primary?.osKind;
  }

  /** Volumes a guest path can name: the primary one, and every lettered one, in drive-letter order (`C:` first). */
  get addressable(): GuestVolume[] {
    const lettered = this.byLetter();
    return lettered.length ? lettered : this.volumes.slice(0, 1);
  }

  private byLetter(): GuestVolume[] {
    return this.volumes.filter((v) => v.driveLetter).sort((a, b) => (a.driveLetter! < b.driveLetter! ? -1 : 1));
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
