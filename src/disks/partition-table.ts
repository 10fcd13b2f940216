import { corrupt } from '../errors.js';
import type { BlockSource } from './block-source.js';
import { crc32 } from './crc32.js';

/** One partition, in bytes from the start of the disk. */
export interface Partition {
  /** 1-based, in table order (GPT entry number; MBR 1-4 primary, 5+ logical). */
  index: number;
  start: number;
  size: number;
  /** GPT: the type GUID, lower case. MBR: the type byte as `0x83`. */
  type: string;
  /** GPT partition name; empty for MBR. */
  name: string;
  /** GPT: the entry's 64 attribute bits (bit 63: Windows gives the volume no drive letter). Absent for MBR. */
  attributes?: bigint;
  /** GPT: the partition's own GUID, lower case (how Windows' MountedDevices names it). Absent for MBR. */
  guid?: string;
}

export type PartitionTable =
  | { scheme: 'gpt'; sectorSize: number; diskGuid: string; partitions: Partition[] }
  /** `diskSignature`: the 32-bit disk signature at byte 440 (how Windows' MountedDevices names the disk). */
  | { scheme: 'mbr'; sectorSize: 512; diskSignature: number; partitions: Partition[] }
  /** No partition table: the disk may hold a filesystem directly (whole-disk filesystem). */
  | { scheme: 'none'; partitions: []; reason: string };

export const GPT_TYPE_LINUX_FILESYSTEM = '0fc63daf-8483-4772-8e79-3d69d8477de4';
const MBR_TYPE_GPT_PROTECTIVE = 0xee;
const MBR_EXTENDED_TYPES = new Set([0x05, 0x0f, 0x85]);
/** Bound the logical-partition chain so a looping EBR list cannot hang us. */
const MAX_LOGICAL_PARTITIONS = 128;

/** Formats a GPT GUID (first three fields little-endian on disk). */
export function formatGuid(b: Buffer): string {
  const hex = (s: number, e: number, rev: boolean) => {
    const part = Buffer.from(b.subarray(s, e));
    if (rev) part.reverse();
    return part.toString('hex');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

/** Reads the partition table of a disk: GPT (behind its protective MBR), MBR, or none. */
export async function readPartitionTable(disk: BlockSource): Promise<PartitionTable> {
  const mbr = await disk.read(0, 512);
  if (mbr.length < 512 || mbr[510] !== 0x55 || mbr[511] !== 0xaa) {
    return { scheme: 'none', partitions: [], reason: 'no MBR boot signature at sector 0' };
  }
  const primaries = [0, 1, 2, 3].map((i) => mbrEntry(mbr, i));
  // A FAT/NTFS boot sector also ends in 55AA; real MBR entries have status 0x00 or 0x80.
  if (primaries.some((p) => p.status !== 0 && p.status !== 0x80)) {
    return { scheme: 'none', partitions: [], reason: 'sector 0 is a boot sector, not an MBR' };
  }
  if (primaries.some((p) => p.type === MBR_TYPE_GPT_PROTECTIVE)) {
    for (const sectorSize of [512, 4096]) {
      const gpt = await readGpt(disk, sectorSize);
      if (gpt) return gpt;
    }
    throw corrupt('protective MBR present but no valid GPT header at LBA 1');
  }
  const partitions: Partition[] = [];
  for (let i = 0; i < 4; i++) {
    const p = primaries[i];
    if (p.type === 0 || p.sectors === 0) continue;
    if (MBR_EXTENDED_TYPES.has(p.type)) {
      partitions.push(...(await readLogicalPartitions(disk, p.lba)));
      continue;
    }
    partitions.push(mbrPartition(i + 1, 0, p));
  }
  if (partitions.length === 0) {
    return { scheme: 'none', partitions: [], reason: 'MBR has no partitions' };
  }
  partitions.sort((a, b) => a.index - b.index);
  return { scheme: 'mbr', sectorSize: 512, diskSignature: mbr.readUInt32LE(440), partitions };
}

interface MbrEntry {
  status: number;
  type: number;
  lba: number;
  sectors: number;
}

function mbrEntry(sector: Buffer, i: number): MbrEntry {
  const o = 446 + i * 16;
  return {
    status: sector[o],
    type: sector[o + 4],
    lba: sector.readUInt32LE(o + 8),
    sectors: sector.readUInt32LE(o + 12),
  };
}

function mbrPartition(index: number, baseLba: number, e: MbrEntry): Partition {
  return {
    index,
    start: (baseLba + e.lba) * 512,
    size: e.sectors * 512,
    type: `0x${e.type.toString(16).padStart(2, '0')}`,
    name: '',
  };
}

/** Follows the EBR chain of an extended partition; logical partitions are numbered from 5. */
async function readLogicalPartitions(disk: BlockSource, extendedLba: number): Promise<Partition[]> {
  const out: Partition[] = [];
  let ebrLba = extendedLba;
  while (out.length < MAX_LOGICAL_PARTITIONS) {
    const ebr = await disk.read(ebrLba * 512, 512);
    if (ebr.length < 512 || ebr[510] !== 0x55 || ebr[511] !== 0xaa) break;
    const data = mbrEntry(ebr, 0);
    const next = mbrEntry(ebr, 1);
    if (data.type !== 0 && data.sectors !== 0) out.push(mbrPartition(5 + out.length, ebrLba, data));
    // The next EBR is addressed relative to the start of the extended partition.
    if (next.type === 0 || next.lba === 0) break;
    ebrLba = extendedLba + next.lba;
  }
  return out;
}

async function readGpt(disk: BlockSource, sectorSize: number): Promise<PartitionTable | undefined> {
  const hdr = await disk.read(sectorSize, sectorSize);
  if (hdr.length < 92 || hdr.toString('latin1', 0, 8) !== 'EFI PART') return undefined;
  const headerSize = hdr.readUInt32LE(12);
  if (headerSize < 92 || headerSize > sectorSize) throw corrupt(`GPT header size ${headerSize} is invalid`);
  const copy = Buffer.from(hdr.subarray(0, headerSize));
  const storedCrc = copy.readUInt32LE(16);
  copy.writeUInt32LE(0, 16);
  if (crc32(copy) !== storedCrc) throw corrupt('GPT header CRC32 mismatch');

  const entriesLba = Number(hdr.readBigUInt64LE(72));
  const count = hdr.readUInt32LE(80);
  const entrySize = hdr.readUInt32LE(84);
  if (entrySize < 128 || count > 16384) throw corrupt(`GPT entry array ${count}x${entrySize} is invalid`);
  const entries = await disk.read(entriesLba * sectorSize, count * entrySize);
  if (entries.length < count * entrySize) throw corrupt('GPT entry array is past the end of the disk');
  if (crc32(entries) !== hdr.readUInt32LE(88)) throw corrupt('GPT partition entry array CRC32 mismatch');

  const partitions: Partition[] = [];
  for (let i = 0; i < count; i++) {
    const e = entries.subarray(i * entrySize, (i + 1) * entrySize);
    if (e.subarray(0, 16).every((b) => b === 0)) continue; // unused entry
    const first = Number(e.readBigUInt64LE(32));
    const last = Number(e.readBigUInt64LE(40)); // inclusive
    if (last < first) throw corrupt(`GPT entry ${i + 1} ends before it starts`);
    partitions.push({
      index: i + 1,
      start: first * sectorSize,
      size: (last - first + 1) * sectorSize,
      type: formatGuid(e.subarray(0, 16)),
      name: e.toString('utf16le', 56, 128).replace(/\0.*$/s, ''),
      attributes: e.readBigUInt64LE(48),
      guid: formatGuid(e.subarray(16, 32)),
    });
  }
  return { scheme: 'gpt', sectorSize, diskGuid: formatGuid(hdr.subarray(56, 72)), partitions };
}
