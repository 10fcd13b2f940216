import type { Partition } from '../disks/partition-table.js';
import { isOpenemError } from '../errors.js';
import type { GuestFilesystem } from './guest-filesystem.js';

/**
 * What Windows makes of an NTFS volume when it hands out drive letters:
 * - `system`: the volume Windows runs from (it holds `\Windows\System32`); it is `C:`;
 * - `hidden`: a volume Windows gives no letter: a recovery partition, a basic data partition marked hidden or
 *   "no drive letter" in its GPT entry, or the boot partition Windows setup makes ("System Reserved": the boot
 *   manager and its store, no Windows folder);
 * - `data`: any other, lettered `D:`, `E:`, … in disk and partition order.
 */
export type WindowsVolumeRole = 'system' | 'data' | 'hidden';

/** Microsoft basic data (GPT). */
const GPT_BASIC_DATA = 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7';
/** Windows Recovery Environment (GPT). */
const GPT_WINDOWS_RECOVERY = 'de94bba4-06d1-4d40-a16a-bfd50179d6ac';
/** GPT_BASIC_DATA_ATTRIBUTE_HIDDEN (62) and _NO_DRIVE_LETTER (63): the mount manager letters neither. */
const GPT_BASIC_DATA_UNLETTERED = (1n << 62n) | (1n << 63n);
/** A hidden NTFS recovery partition (MBR type 0x27). */
const MBR_HIDDEN_RECOVERY = '0x27';

/** The role of an NTFS volume (in `partition`, or on a whole disk) for drive letters; see WindowsVolumeRole. */
export async function windowsVolumeRole(fs: GuestFilesystem, partition?: Partition): Promise<WindowsVolumeRole> {
  if (partition) {
    if (partition.type === GPT_WINDOWS_RECOVERY || partition.type === MBR_HIDDEN_RECOVERY) return 'hidden';
    if (partition.type === GPT_BASIC_DATA && ((partition.attributes ?? 0n) & GPT_BASIC_DATA_UNLETTERED) !== 0n) return 'hidden';
  }
  if ((await typeOf(fs, '/Windows/System32')) === 'dir') return 'system';
  if ((await typeOf(fs, '/bootmgr')) === 'file' && (await typeOf(fs, '/Boot')) === 'dir' && (await typeOf(fs, '/Windows')) === undefined) return 'hidden';
  return 'data';
}

/** The entry type at `path` (NTFS looks names up case-insensitively); `undefined` when absent or unreadable. */
async function typeOf(fs: GuestFilesystem, path: string): Promise<string | undefined> {
  try {
    return (await fs.stat(path))?.type;
  } catch (e) {
    if (isOpenemError(e)) return undefined;
    throw e;
  }
}
