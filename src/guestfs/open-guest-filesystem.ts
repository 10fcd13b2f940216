import type { BlockSource } from '../disks/block-source.js';
import { PartitionSource } from '../disks/partition-source.js';
import { readPartitionTable, type Partition, type PartitionTable } from '../disks/partition-table.js';
import { isOpenemError } from '../errors.js';
import { Ext4Reader } from './ext4-reader.js';
import { hasExt4Magic } from './ext4-superblock.js';

export type OpenedGuestFilesystem =
  | {
      fs: Ext4Reader;
      /** The partition holding it; absent for a whole-disk filesystem. */
      partition?: Partition;
      /** Byte offset of the filesystem on the disk (where a GuestWriter mounts it). */
      offset: number;
      table: PartitionTable;
    }
  | { fs: undefined; reason: string; table?: PartitionTable };

/**
 * Finds the first ext4 filesystem on a disk: in the first partition that holds one, or on the
 * whole disk when there is no partition table. Says why when there is none, so a caller can
 * report "cannot index" instead of failing. The disk stays open; the caller closes it.
 */
export async function openGuestFilesystem(disk: BlockSource): Promise<OpenedGuestFilesystem> {
  let table: PartitionTable;
  try {
    table = await readPartitionTable(disk);
  } catch (e) {
    if (isOpenemError(e)) return { fs: undefined, reason: `unreadable partition table: ${e.message}` };
    throw e;
  }
  if (table.scheme === 'none') {
    if (!(await hasExt4Magic(disk))) {
      return { fs: undefined, reason: `no partition table (${table.reason}) and no ext4 filesystem on the whole disk`, table };
    }
    return { fs: await Ext4Reader.open(disk), offset: 0, table };
  }
  const skipped: string[] = [];
  for (const partition of table.partitions) {
    const view = new PartitionSource(disk, partition.start, partition.size);
    if (!(await hasExt4Magic(view))) {
      skipped.push(`#${partition.index} (type ${partition.type}) is not ext4`);
      continue;
    }
    try {
      return { fs: await Ext4Reader.open(view), partition, offset: partition.start, table };
    } catch (e) {
      if (!isOpenemError(e)) throw e;
      skipped.push(`#${partition.index}: ${e.message}`);
    }
  }
  const detail = skipped.length ? skipped.join('; ') : 'no partitions';
  return { fs: undefined, reason: `no ext4 filesystem in the ${table.scheme} partitions: ${detail}`, table };
}
