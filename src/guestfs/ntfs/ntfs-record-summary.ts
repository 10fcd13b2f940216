import { applyFixups } from './ntfs-fixups.js';
import { ATTR, ATTR_FLAG, RECORD_FLAG, ntfsTime } from './ntfs-record.js';
import { ownerOf } from './ntfs-security.js';
import { FILE_ATTRIBUTE, MAX_INTERIX_LINK, type NtfsNode } from './ntfs-node.js';

/** What a folder listing shows of a plain file or folder, read from its file record's attribute headers alone. */
export interface NtfsRecordSummary extends Pick<NtfsNode, 'fileAttributes' | 'owner' | 'securityId' | 'birthtime' | 'mtime' | 'ctime' | 'atime'> {
  isDirectory: boolean;
  /** The unnamed $DATA's size (0 for a folder, or a file without one). */
  size: number;
}

/**
 * A listing's view of file record `raw` without building its node (ntfs-node.ts): only the attribute headers are
 * walked, and only $STANDARD_INFORMATION, the unnamed $DATA's size and a resident $SECURITY_DESCRIPTOR's owner are
 * read. `undefined` for every record that is not that simple — not an in-use base record, an attribute list, a
 * reparse point, a SYSTEM file small enough to be an Interix symlink, or anything out of bounds — which the caller reads the full
 * way (which also says CORRUPT where the record is damaged). A listing of a large folder so reads 10,000 records
 * without allocating an attribute, a run list or a node for each. The fixups are applied to a copy in `scratch`
 * (one buffer of the record size for a whole listing; nothing read from it outlives the call).
 */
export function summariseRecord(raw: Buffer, volumeBytes: number, scratch: Buffer): NtfsRecordSummary | undefined {
  if (raw.length !== scratch.length) return undefined;
  raw.copy(scratch);
  const b = scratch;
  try {
    applyFixups(b, 'FILE', 'NTFS file record');
  } catch {
    return undefined;
  }
  const flags = b.readUInt16LE(0x16);
  if (!(flags & RECORD_FLAG.IN_USE) || b.readUInt32LE(0x20) !== 0 || b.readUInt16LE(0x24) !== 0) return undefined;
  const bytesUsed = Math.min(b.readUInt32LE(0x18), b.length);
  let at = b.readUInt16LE(0x14);
  if (at < 0x2a || at >= bytesUsed) return undefined;
  let si: { at: number; length: number } | undefined;
  let size = 0;
  let sawData = false;
  let owner: string | undefined;
  let ownDescriptor = false;
  while (at + 4 <= bytesUsed) {
    const type = b.readUInt32LE(at);
    if (type === ATTR.END) break;
    if (at + 16 > bytesUsed) return undefined;
    const length = b.readUInt32LE(at + 4);
    if (length < 16 || at + length > bytesUsed || length % 8 !== 0) return undefined;
    if (type === ATTR.ATTRIBUTE_LIST || type === ATTR.REPARSE_POINT) return undefined;
    const resident = b[at + 8] === 0;
    if (type === ATTR.SECURITY_DESCRIPTOR) {
      if (!resident || length < 0x18 || ownDescriptor) return undefined;
      const valueLength = b.readUInt32LE(at + 0x10);
      const valueOffset = b.readUInt16LE(at + 0x14);
      if (valueOffset + valueLength > length) return undefined;
      ownDescriptor = true;
      try {
        owner = ownerOf(b.subarray(at + valueOffset, at + valueOffset + valueLength));
      } catch {
        return undefined;
      }
    }
    if (type === ATTR.STANDARD_INFORMATION) {
      if (!resident || length < 0x18 || si) return undefined;
      const valueLength = b.readUInt32LE(at + 0x10);
      const valueOffset = b.readUInt16LE(at + 0x14);
      if (valueOffset + valueLength > length || valueLength < 0x24) return undefined;
      si = { at: at + valueOffset, length: valueLength };
    } else if (type === ATTR.DATA && b[at + 9] === 0) {
      if (sawData) return undefined;
      sawData = true;
      if (resident) {
        if (length < 0x18 || b.readUInt16LE(at + 0x14) + b.readUInt32LE(at + 0x10) > length) return undefined;
        size = b.readUInt32LE(at + 0x10);
      } else {
        if (length < 0x40 || b.readUInt32LE(at + 0x10) !== 0 || b.readUInt32LE(at + 0x14) !== 0) return undefined;
        const dataSize = b.readUInt32LE(at + 0x34) * 2 ** 32 + b.readUInt32LE(at + 0x30);
        const allocated = b.readUInt32LE(at + 0x2c) * 2 ** 32 + b.readUInt32LE(at + 0x28);
        if (!Number.isSafeInteger(allocated) || dataSize > allocated) return undefined;
        if ((b.readUInt16LE(at + 0x0c) & (ATTR_FLAG.SPARSE | ATTR_FLAG.COMPRESSED)) === 0 && allocated > volumeBytes) return undefined;
        size = dataSize;
      }
    }
    at += length;
  }
  if (!si) return undefined;
  const isDirectory = (flags & RECORD_FLAG.IS_DIRECTORY) !== 0;
  const fileAttributes = b.readUInt32LE(si.at + 0x20);
  if (!isDirectory && fileAttributes & FILE_ATTRIBUTE.SYSTEM && size >= 8 && size <= MAX_INTERIX_LINK) return undefined;
  const securityId = si.length >= 0x38 ? b.readUInt32LE(si.at + 0x34) : 0;
  return {
    isDirectory,
    size: isDirectory ? 0 : size,
    fileAttributes,
    ...(owner !== undefined ? { owner } : {}),
    ...(securityId !== 0 && !ownDescriptor ? { securityId } : {}),
    birthtime: ntfsTime(b, si.at + 0x00),
    mtime: ntfsTime(b, si.at + 0x08),
    ctime: ntfsTime(b, si.at + 0x10),
    atime: ntfsTime(b, si.at + 0x18),
  };
}
