import { randomUUID } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { badRequest } from '../errors.js';
import { crc32 } from './crc32.js';
import { GPT_TYPE_LINUX_FILESYSTEM } from './partition-table.js';

const SECTOR = 512;
const ENTRY_COUNT = 128;
const ENTRY_SIZE = 128;
const ENTRY_SECTORS = (ENTRY_COUNT * ENTRY_SIZE) / SECTOR; // 32

export interface GptOptions {
  /** Partition type GUID; Linux filesystem by default. */
  typeGuid?: string;
  /** Fixed GUIDs make images reproducible (tests, golden files); random otherwise. */
  diskGuid?: string;
  partitionGuid?: string;
}

/** Encodes a GUID string in GPT's mixed-endian layout (first three fields little-endian). */
export function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw badRequest(`invalid GUID ${guid}`);
  const b = Buffer.from(hex, 'hex');
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  return b;
}

/** One partition of a GPT that `writeGpt` writes. */
export interface GptPartitionSpec {
  start: number;
  size: number;
  name: string;
  /** Partition type GUID; Linux filesystem by default. */
  typeGuid?: string;
  /** A fixed GUID makes images reproducible; random otherwise. */
  partitionGuid?: string;
  /** The entry's attribute bits (e.g. Windows' "no drive letter", bit 63); none by default. */
  attributes?: bigint;
}

/**
 * Writes a protective MBR, primary and backup GPT headers and entry arrays describing one partition
 * [partStart, partStart + partSize) on a disk of `diskSize` bytes. Extends the file to `diskSize`
 * if it is shorter; never touches the partition's own bytes.
 */
export async function writeGptWithSinglePartition(
  target: string | FileHandle,
  diskSize: number,
  partStart: number,
  partSize: number,
  name: string,
  options: GptOptions = {},
): Promise<void> {
  await writeGpt(target, diskSize, [{ start: partStart, size: partSize, name, typeGuid: options.typeGuid, partitionGuid: options.partitionGuid }], { diskGuid: options.diskGuid });
}

/**
 * Writes a protective MBR, primary and backup GPT headers and entry arrays describing `partitions` (in entry order,
 * which must not overlap) on a disk of `diskSize` bytes. Extends the file to `diskSize` if it is shorter; never
 * touches the partitions' own bytes.
 */
export async function writeGpt(target: string | FileHandle, diskSize: number, partitions: GptPartitionSpec[], options: { diskGuid?: string } = {}): Promise<void> {
  const totalSectors = Math.floor(diskSize / SECTOR);
  const lastLba = totalSectors - 1;
  const firstUsable = 2 + ENTRY_SECTORS;
  const lastUsable = lastLba - 1 - ENTRY_SECTORS;
  if (partitions.length === 0 || partitions.length > ENTRY_COUNT) throw badRequest(`a GPT holds 1 to ${ENTRY_COUNT} partitions here`);
  const entries = Buffer.alloc(ENTRY_COUNT * ENTRY_SIZE);
  let previousLast = firstUsable - 1;
  partitions.forEach((p, i) => {
    if (p.start % SECTOR || p.size % SECTOR || p.size <= 0) throw badRequest('partition start and size must be positive multiples of 512');
    const partFirst = p.start / SECTOR;
    const partLast = partFirst + p.size / SECTOR - 1;
    if (partFirst <= previousLast || partLast > lastUsable) {
      throw badRequest(`partition [${partFirst}, ${partLast}] is outside usable LBAs [${firstUsable}, ${lastUsable}] or overlaps the one before`);
    }
    previousLast = partLast;
    if (p.name.length > 36) throw badRequest('GPT partition names hold at most 36 UTF-16 units');
    const at = i * ENTRY_SIZE;
    guidBytes(p.typeGuid ?? GPT_TYPE_LINUX_FILESYSTEM).copy(entries, at);
    guidBytes(p.partitionGuid ?? randomUUID()).copy(entries, at + 16);
    entries.writeBigUInt64LE(BigInt(partFirst), at + 32);
    entries.writeBigUInt64LE(BigInt(partLast), at + 40);
    entries.writeBigUInt64LE(p.attributes ?? 0n, at + 48);
    entries.write(p.name, at + 56, 72, 'utf16le');
  });
  const entriesCrc = crc32(entries);
  const diskGuid = guidBytes(options.diskGuid ?? randomUUID());

  const header = (myLba: number, otherLba: number, entriesLba: number): Buffer => {
    const h = Buffer.alloc(SECTOR);
    h.write('EFI PART', 0, 'latin1');
    h.writeUInt32LE(0x00010000, 8); // revision 1.0
    h.writeUInt32LE(92, 12);
    h.writeBigUInt64LE(BigInt(myLba), 24);
    h.writeBigUInt64LE(BigInt(otherLba), 32);
    h.writeBigUInt64LE(BigInt(firstUsable), 40);
    h.writeBigUInt64LE(BigInt(lastUsable), 48);
    diskGuid.copy(h, 56);
    h.writeBigUInt64LE(BigInt(entriesLba), 72);
    h.writeUInt32LE(ENTRY_COUNT, 80);
    h.writeUInt32LE(ENTRY_SIZE, 84);
    h.writeUInt32LE(entriesCrc, 88);
    h.writeUInt32LE(crc32(h.subarray(0, 92)), 16);
    return h;
  };

  const mbr = Buffer.alloc(SECTOR);
  const o = 446;
  mbr[o + 1] = 0x00; // CHS of 0/0/2, as other tools write it
  mbr[o + 2] = 0x02;
  mbr[o + 4] = 0xee;
  mbr.fill(0xff, o + 5, o + 8);
  mbr.writeUInt32LE(1, o + 8);
  mbr.writeUInt32LE(Math.min(totalSectors - 1, 0xffffffff), o + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;

  const fh = typeof target === 'string' ? await open(target, 'r+') : target;
  try {
    if ((await fh.stat()).size < diskSize) await fh.truncate(diskSize);
    await fh.write(mbr, 0, SECTOR, 0);
    await fh.write(header(1, lastLba, 2), 0, SECTOR, SECTOR);
    await fh.write(entries, 0, entries.length, 2 * SECTOR);
    const backupEntriesLba = lastLba - ENTRY_SECTORS;
    await fh.write(entries, 0, entries.length, backupEntriesLba * SECTOR);
    await fh.write(header(lastLba, 1, backupEntriesLba), 0, SECTOR, lastLba * SECTOR);
  } finally {
    if (typeof target === 'string') await fh.close();
  }
}
