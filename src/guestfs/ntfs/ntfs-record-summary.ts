import { ATTR, ATTR_FLAG, RECORD_FLAG } from './ntfs-record.js';
import type { OwnerNames } from './ntfs-security.js';
import { FILE_ATTRIBUTE, MAX_INTERIX_LINK } from './ntfs-node.js';
import { u16le, u32le } from '../little-endian.js';

/**
 * What a folder listing shows of a plain file or folder, read from its file record's attribute headers alone. One
 * summary is filled again for every record of a listing (summariseRecord), so a listing allocates none per record;
 * the times are milliseconds since 1970 (what a Date holds), made into Dates only by the entry that shows them.
 */
export interface NtfsRecordSummary {
  isDirectory: boolean;
  /** The unnamed $DATA's size (0 for a folder, or a file without one). */
  size: number;
  fileAttributes: number;
  /** From the record's own $SECURITY_DESCRIPTOR; otherwise `securityId` (0: none) names one shared in $Secure. */
  owner: string | undefined;
  securityId: number;
  birthtimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  atimeMs: number;
}

/** A summary for summariseRecord to fill. */
export function newRecordSummary(): NtfsRecordSummary {
  return { isDirectory: false, size: 0, fileAttributes: 0, owner: undefined, securityId: 0, birthtimeMs: 0, mtimeMs: 0, ctimeMs: 0, atimeMs: 0 };
}

/**
 * A listing's view of the file record at `b[at, at + recordSize)`, its fixups applied (NtfsMft.forEachRecord),
 * without building its node (ntfs-node.ts): only the attribute headers are walked, and only $STANDARD_INFORMATION,
 * the unnamed $DATA's size and a resident $SECURITY_DESCRIPTOR's owner are read, into `into`. `false` (and `into`
 * left in any state) for every record that is not that simple — not an in-use base record, an attribute list, a
 * reparse point, a SYSTEM file small enough to be an Interix symlink, or anything out of bounds — which the caller
 * reads the full way (which also says CORRUPT where the record is damaged). A listing of a large folder so reads
 * 10,000 records without allocating a Buffer, an attribute, a run list, a node or a summary for each; owners are
 * named through `owners`, which names a run of one owner once.
 */
export function summariseRecord(b: Buffer, at: number, recordSize: number, volumeBytes: number, owners: OwnerNames, into: NtfsRecordSummary): boolean {
  if (at < 0 || at + recordSize > b.length) return false;
  return summariseAt(b, at, recordSize, volumeBytes, owners, into);
}

/**
 * summariseRecord of the record at `b[base, base + recordSize)`. Offsets below are the record's own (as NTFS writes
 * them), checked against the record's used size, and read at `base` + offset (byte by byte, little-endian.ts: every
 * read is in bounds once its offset is checked).
 */
function summariseAt(b: Buffer, base: number, recordSize: number, volumeBytes: number, owners: OwnerNames, into: NtfsRecordSummary): boolean {
  const flags = u16le(b, base + 0x16);
  if (!(flags & RECORD_FLAG.IN_USE) || u32le(b, base + 0x20) !== 0 || u16le(b, base + 0x24) !== 0) return false;
  const bytesUsed = Math.min(u32le(b, base + 0x18), recordSize);
  let at = u16le(b, base + 0x14);
  if (at < 0x2a || at >= bytesUsed) return false;
  /** Where $STANDARD_INFORMATION's value is (-1: not met yet) and its length. */
  let siAt = -1;
  let siLength = 0;
  let size = 0;
  let sawData = false;
  let owner: string | undefined;
  let ownDescriptor = false;
  while (at + 4 <= bytesUsed) {
    const type = u32le(b, base + at);
    if (type === ATTR.END) break;
    if (at + 16 > bytesUsed) return false;
    const length = u32le(b, base + at + 4);
    if (length < 16 || at + length > bytesUsed || length % 8 !== 0) return false;
    if (type === ATTR.ATTRIBUTE_LIST || type === ATTR.REPARSE_POINT) return false;
    const resident = b[base + at + 8] === 0;
    if (type === ATTR.SECURITY_DESCRIPTOR) {
      if (!resident || length < 0x18 || ownDescriptor) return false;
      const valueLength = u32le(b, base + at + 0x10);
      const valueOffset = u16le(b, base + at + 0x14);
      if (valueOffset + valueLength > length) return false;
      ownDescriptor = true;
      try {
        owner = owners.ownerAt(b, base + at + valueOffset, base + at + valueOffset + valueLength);
      } catch {
        return false;
      }
    }
    if (type === ATTR.STANDARD_INFORMATION) {
      if (!resident || length < 0x18 || siAt >= 0) return false;
      const valueLength = u32le(b, base + at + 0x10);
      const valueOffset = u16le(b, base + at + 0x14);
      if (valueOffset + valueLength > length || valueLength < 0x24) return false;
      siAt = at + valueOffset;
      siLength = valueLength;
    } else if (type === ATTR.DATA && b[base + at + 9] === 0) {
      if (sawData) return false;
      sawData = true;
      if (resident) {
        if (length < 0x18 || u16le(b, base + at + 0x14) + u32le(b, base + at + 0x10) > length) return false;
        size = u32le(b, base + at + 0x10);
      } else {
        if (length < 0x40 || u32le(b, base + at + 0x10) !== 0 || u32le(b, base + at + 0x14) !== 0) return false;
        const dataSize = u32le(b, base + at + 0x34) * 2 ** 32 + u32le(b, base + at + 0x30);
        const allocated = u32le(b, base + at + 0x2c) * 2 ** 32 + u32le(b, base + at + 0x28);
        if (!Number.isSafeInteger(allocated) || dataSize > allocated) return false;
        if ((u16le(b, base + at + 0x0c) & (ATTR_FLAG.SPARSE | ATTR_FLAG.COMPRESSED)) === 0 && allocated > volumeBytes) return false;
        size = dataSize;
      }
    }
    at += length;
  }
  if (siAt < 0) return false;
  const isDirectory = (flags & RECORD_FLAG.IS_DIRECTORY) !== 0;
  const fileAttributes = u32le(b, base + siAt + 0x20);
  if (!isDirectory && fileAttributes & FILE_ATTRIBUTE.SYSTEM && size >= 8 && size <= MAX_INTERIX_LINK) return false;
  const si = base + siAt;
  into.isDirectory = isDirectory;
  into.size = isDirectory ? 0 : size;
  into.fileAttributes = fileAttributes;
  into.owner = owner;
  into.securityId = siLength >= 0x38 && !ownDescriptor ? u32le(b, si + 0x34) : 0;
  into.birthtimeMs = timeMs(b, si + 0x00);
  into.mtimeMs = timeMs(b, si + 0x08);
  into.ctimeMs = timeMs(b, si + 0x10);
  into.atimeMs = timeMs(b, si + 0x18);
  return true;
}

/** ntfsTimeMs (ntfs-record.ts) read byte by byte, at an offset summariseAt has checked. */
function timeMs(b: Buffer, at: number): number {
  return (u32le(b, at + 4) * 2 ** 32 + u32le(b, at)) / 10_000 - 11_644_473_600_000;
}
