import { corrupt } from '../../errors.js';
import { applyFixups } from './ntfs-fixups.js';
import { decodeRunlist, type NtfsRun } from './ntfs-runlist.js';

export const ATTR = {
  STANDARD_INFORMATION: 0x10,
  ATTRIBUTE_LIST: 0x20,
  FILE_NAME: 0x30,
  SECURITY_DESCRIPTOR: 0x50,
  DATA: 0x80,
  INDEX_ROOT: 0x90,
  INDEX_ALLOCATION: 0xa0,
  BITMAP: 0xb0,
  REPARSE_POINT: 0xc0,
  END: 0xffffffff,
} as const;

export const ATTR_FLAG = { COMPRESSED: 0x0001, ENCRYPTED: 0x4000, SPARSE: 0x8000 } as const;

/** A file record header's flags. */
export const RECORD_FLAG = { IN_USE: 0x0001, IS_DIRECTORY: 0x0002 } as const;

/** One attribute as stored in one file record: its value inline (resident), or its runs (non-resident). */
export interface NtfsAttribute {
  type: number;
  name: string;
  flags: number;
  /** The record holding this attribute (a base record or one of its extension records). */
  record: number;
  resident?: Buffer;
  /** Non-resident: the runs of this extent [lowestVcn, highestVcn], and the sizes (valid in the first extent). */
  lowestVcn: number;
  highestVcn: number;
  runs: NtfsRun[];
  allocatedSize: number;
  dataSize: number;
  initializedSize: number;
  /** Clusters per compression unit, as a power of two (0: not compressed). */
  compressionUnit: number;
}

export interface NtfsFileRecord {
  number: number;
  sequence: number;
  linkCount: number;
  inUse: boolean;
  isDirectory: boolean;
  /** The base record, for an extension record (0 for a base record). */
  baseRecord: number;
  attributes: NtfsAttribute[];
}

/** The record number part of a 64-bit file reference (48 bits; the top 16 are the sequence number). */
export function referenceRecord(b: Buffer, at: number): number {
  return b.readUInt32LE(at) + (b.readUInt16LE(at + 4) * 2 ** 32);
}

/**
 * Parses a FILE record (fixups applied in place). Every offset and length is checked against the record, every
 * run against the volume, so a hostile record cannot make the parser read outside it or loop: each attribute moves
 * the cursor forward by at least its 16-byte header.
 */
export function parseFileRecord(raw: Buffer, number: number, totalClusters: number): NtfsFileRecord {
  const b = Buffer.from(raw);
  applyFixups(b, 'FILE', `NTFS file record ${number}`);
  const flags = b.readUInt16LE(0x16);
  const bytesUsed = Math.min(b.readUInt32LE(0x18), b.length);
  const firstAttr = b.readUInt16LE(0x14);
  const record: NtfsFileRecord = {
    number,
    sequence: b.readUInt16LE(0x10),
    linkCount: b.readUInt16LE(0x12),
    inUse: (flags & RECORD_FLAG.IN_USE) !== 0,
    isDirectory: (flags & RECORD_FLAG.IS_DIRECTORY) !== 0,
    baseRecord: referenceRecord(b, 0x20),
    attributes: [],
  };
  let at = firstAttr;
  if (at < 0x2a || at >= bytesUsed) throw corrupt(`NTFS file record ${number} has its attributes at ${at}, outside the record`);
  while (at + 4 <= bytesUsed) {
    const type = b.readUInt32LE(at);
    if (type === ATTR.END) break;
    if (at + 16 > bytesUsed) throw corrupt(`NTFS file record ${number} has a truncated attribute at ${at}`);
    const length = b.readUInt32LE(at + 4);
    if (length < 16 || at + length > bytesUsed || length % 8 !== 0) throw corrupt(`NTFS file record ${number} has an attribute of invalid length ${length} at ${at}`);
    record.attributes.push(parseAttribute(b.subarray(at, at + length), number, totalClusters));
    at += length;
  }
  return record;
}

function attributeName(a: Buffer, record: number): string {
  const nameLength = a[0x09];
  const nameOffset = a.readUInt16LE(0x0a);
  if (nameLength === 0) return '';
  if (nameOffset + nameLength * 2 > a.length) throw corrupt(`NTFS file record ${record} has an attribute name outside its attribute`);
  return a.toString('utf16le', nameOffset, nameOffset + nameLength * 2);
}

/** An unsigned 64-bit little-endian value as a number (exact up to 2^53; larger is caught by the callers' checks). */
function u64(b: Buffer, at: number): number {
  return b.readUInt32LE(at + 4) * 2 ** 32 + b.readUInt32LE(at);
}

function parseAttribute(a: Buffer, record: number, totalClusters: number): NtfsAttribute {
  const type = a.readUInt32LE(0);
  const name = attributeName(a, record);
  const flags = a.readUInt16LE(0x0c);
  if (a[0x08] === 0) {
    if (a.length < 0x18) throw corrupt(`NTFS file record ${record} has a truncated resident attribute`);
    const valueLength = a.readUInt32LE(0x10);
    const valueOffset = a.readUInt16LE(0x14);
    if (valueOffset + valueLength > a.length) throw corrupt(`NTFS file record ${record} has a resident value outside its attribute`);
    const resident = a.subarray(valueOffset, valueOffset + valueLength);
    return { type, name, flags, record, resident, lowestVcn: 0, highestVcn: -1, runs: [], allocatedSize: valueLength, dataSize: valueLength, initializedSize: valueLength, compressionUnit: 0 };
  }
  if (a.length < 0x40) throw corrupt(`NTFS file record ${record} has a truncated non-resident attribute`);
  const lowestVcn = u64(a, 0x10);
  // The highest VCN is -1 for an empty attribute.
  const highestVcn = a.readInt32LE(0x1c) === -1 ? -1 : u64(a, 0x18);
  const runsOffset = a.readUInt16LE(0x20);
  const allocatedSize = u64(a, 0x28);
  const dataSize = u64(a, 0x30);
  const initializedSize = u64(a, 0x38);
  if (!Number.isSafeInteger(highestVcn) || !Number.isSafeInteger(lowestVcn) || highestVcn < lowestVcn - 1 || !Number.isSafeInteger(allocatedSize) || dataSize > allocatedSize || initializedSize > allocatedSize || runsOffset > a.length) {
    throw corrupt(`NTFS file record ${record} has a non-resident attribute with inconsistent sizes`);
  }
  const runs = decodeRunlist(a, runsOffset, a.length, lowestVcn, highestVcn, totalClusters);
  return { type, name, flags, record, lowestVcn, highestVcn, runs, allocatedSize, dataSize, initializedSize, compressionUnit: a[0x22] };
}

/**
 * The NTFS time (100 ns since 1601) at `at` as milliseconds since 1970, a Date's value: its two 32-bit halves read as
 * one double (no BigInt), the value every Date of an NTFS time is made from.
 */
export function ntfsTimeMs(b: Buffer, at: number): number {
  return (b.readUInt32LE(at + 4) * 2 ** 32 + b.readUInt32LE(at)) / 10_000 - 11_644_473_600_000;
}

/** The NTFS time (100 ns since 1601) at `at`, as a Date. */
export function ntfsTime(b: Buffer, at: number): Date {
  return new Date(ntfsTimeMs(b, at));
}
