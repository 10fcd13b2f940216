import { formatGuid } from '../disks/partition-table.js';
import { isOpenemError } from '../errors.js';
import type { GuestFilesystem } from './guest-filesystem.js';
import { RegistryHive } from './windows-registry-hive.js';

/** How Windows names a volume in `MountedDevices`: an MBR disk's signature and the partition's byte offset, or a GPT partition's GUID. */
export type WindowsVolumeAddress = { mbrSignature: number; offset: number } | { gptPartition: string };

/** A drive letter's device in `MountedDevices`: a volume, or something openem does not read (a CD-ROM, a network drive). */
export type MountedDevice = WindowsVolumeAddress | 'other';

/** Where a Windows system volume keeps the SYSTEM hive. */
export const SYSTEM_HIVE = '/Windows/System32/config/SYSTEM';
const DOS_DEVICE = /^\\DosDevices\\([A-Za-z]):$/;
const GPT_PREFIX = Buffer.from('DMIO:ID:', 'latin1');

/**
 * The drive letters Windows gave its devices, from `HKLM\SYSTEM\MountedDevices` on its system volume: `C` → the
 * volume it names. An empty map when the volume holds no readable SYSTEM hive (then letters are handed out in
 * order); `reason` says why.
 */
export async function readMountedDevices(system: GuestFilesystem): Promise<{ letters: Map<string, MountedDevice>; reason?: string }> {
  const letters = new Map<string, MountedDevice>();
  try {
    const hive = await RegistryHive.open((offset, length) => system.read(SYSTEM_HIVE, offset, length));
    const key = await hive.subkey(await hive.root(), 'MountedDevices');
    if (!key) return { letters, reason: 'the SYSTEM hive has no MountedDevices key' };
    for (const value of await hive.values(key)) {
      const letter = DOS_DEVICE.exec(value.name)?.[1]?.toUpperCase();
      if (letter && value.data) letters.set(letter, deviceOf(value.data));
    }
    return { letters };
  } catch (e) {
    if (isOpenemError(e)) return { letters, reason: `the SYSTEM hive is not readable: ${e.message}` };
    throw e;
  }
}

function deviceOf(data: Buffer): MountedDevice {
  if (data.length === 12) return { mbrSignature: data.readUInt32LE(0), offset: Number(data.readBigUInt64LE(4)) };
  if (data.length === 24 && data.subarray(0, 8).equals(GPT_PREFIX)) return { gptPartition: formatGuid(data.subarray(8, 24)) };
  return 'other';
}

/** Whether `device` names the volume at `address`. */
export function namesVolume(device: MountedDevice, address: WindowsVolumeAddress | undefined): boolean {
  if (device === 'other' || !address) return false;
  if ('gptPartition' in device) return 'gptPartition' in address && address.gptPartition === device.gptPartition;
  return 'mbrSignature' in address && address.mbrSignature === device.mbrSignature && address.offset === device.offset;
}
