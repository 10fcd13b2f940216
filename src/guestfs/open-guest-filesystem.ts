import type { BlockSource } from '../disks/block-source.js';
import { PartitionSource } from '../disks/partition-source.js';
import { readPartitionTable, type Partition, type PartitionTable } from '../disks/partition-table.js';
import { isOpenemError } from '../errors.js';
import { ext4Probe } from './ext4/ext4-probe.js';
import { ntfsProbe } from './ntfs/ntfs-probe.js';
import type { GuestFilesystem } from './guest-filesystem.js';
import type { GuestFilesystemKind, GuestFilesystemProbe, VolumeOsKind } from './guest-filesystem-probe.js';

/** Every filesystem openem reads, tried in this order on each volume. Adding a filesystem adds its probe here. */
export const GUEST_FILESYSTEM_PROBES: readonly GuestFilesystemProbe[] = [ext4Probe, ntfsProbe];

/** One filesystem found on a disk. */
export interface FoundGuestFilesystem {
  fs: GuestFilesystem;
  kind: GuestFilesystemKind;
  osKind: VolumeOsKind;
  /** Whether the guest gives this volume a drive letter (NTFS). */
  driveLetters: boolean;
  /** The partition holding it; absent for a whole-disk filesystem. */
  partition?: Partition;
  /** Byte offset of the filesystem on the disk (where a GuestWriter mounts it). */
  offset: number;
}

export interface GuestFilesystemsOnDisk {
  /** In partition order; empty when there is none openem can read. */
  found: FoundGuestFilesystem[];
  /** Why nothing was found, or what was skipped: for "cannot index" messages instead of failures. */
  reason: string;
  table?: PartitionTable;
}

export type OpenedGuestFilesystem = (FoundGuestFilesystem & { table: PartitionTable }) | { fs: undefined; reason: string; table?: PartitionTable };

/**
 * Finds every filesystem openem can read on a disk: in each partition that holds one, or on the whole disk when
 * there is no partition table. Says why when there is none, so a caller can report "cannot index" instead of
 * failing. The disk stays open; the caller closes it (the filesystems read through it).
 */
export async function openGuestFilesystems(disk: BlockSource, probes: readonly GuestFilesystemProbe[] = GUEST_FILESYSTEM_PROBES): Promise<GuestFilesystemsOnDisk> {
  const kinds = probes.map((p) => p.kind).join(' or ');
  let table: PartitionTable;
  try {
    table = await readPartitionTable(disk);
  } catch (e) {
    if (isOpenemError(e)) return { found: [], reason: `unreadable partition table: ${e.message}` };
    throw e;
  }
  if (table.scheme === 'none') {
    const probe = await detect(disk, probes);
    if (!probe) return { found: [], reason: `no partition table (${table.reason}) and no ${kinds} filesystem on the whole disk`, table };
    return { found: [found(probe, await probe.open(disk), 0)], reason: '', table };
  }
  const skipped: string[] = [];
  const out: FoundGuestFilesystem[] = [];
  for (const partition of table.partitions) {
    const view = new PartitionSource(disk, partition.start, partition.size);
    const probe = await detect(view, probes);
    if (!probe) {
      skipped.push(`#${partition.index} (type ${partition.type}) is not ${kinds}`);
      continue;
    }
    try {
      out.push(found(probe, await probe.open(view), partition.start, partition));
    } catch (e) {
      if (!isOpenemError(e)) throw e;
      skipped.push(`#${partition.index}: ${e.message}`);
    }
  }
  const detail = skipped.length ? skipped.join('; ') : 'no partitions';
  return { found: out, reason: out.length ? detail : `no ${kinds} filesystem in the ${table.scheme} partitions: ${detail}`, table };
}

/** The first filesystem on a disk (in partition order), or why there is none. */
export async function openGuestFilesystem(disk: BlockSource, probes: readonly GuestFilesystemProbe[] = GUEST_FILESYSTEM_PROBES): Promise<OpenedGuestFilesystem> {
  const r = await openGuestFilesystems(disk, probes);
  const first = r.found[0];
  return first && r.table ? { ...first, table: r.table } : { fs: undefined, reason: r.reason, table: r.table };
}

async function detect(volume: BlockSource, probes: readonly GuestFilesystemProbe[]): Promise<GuestFilesystemProbe | undefined> {
  for (const probe of probes) if (await probe.detect(volume)) return probe;
  return undefined;
}

function found(probe: GuestFilesystemProbe, fs: GuestFilesystem, offset: number, partition?: Partition): FoundGuestFilesystem {
  const out: FoundGuestFilesystem = { fs, kind: probe.kind, osKind: probe.osKind, driveLetters: probe.driveLetters, offset };
  if (partition) out.partition = partition;
  return out;
}
