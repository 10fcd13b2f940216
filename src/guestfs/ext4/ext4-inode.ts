/** Inode layout (ext4 on-disk format, "Index Nodes"). Parsing only; locating is in ext4-reader. */
import type { GuestEntry } from '../guest-filesystem.js';
import { u16le as u16, u32le as u32 } from '../little-endian.js';

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

export const INODE_FLAGS = {
  INDEX: 0x1000,
  HUGE_FILE: 0x40000,
  EXTENTS: 0x80000,
  INLINE_DATA: 0x10000000,
  ENCRYPT: 0x800,
} as const;

export const ROOT_INODE = 2;

export interface Ext4Inode {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linksCount: number;
  flags: number;
  /** Allocated space in 512-byte sectors (i_blocks, converted from fs blocks under HUGE_FILE). */
  blocks: number;
  /** Block of the extended-attribute block, 0 when none. */
  fileAcl: number;
  /** Seconds since the epoch, with the extra-epoch bits and nanoseconds when the inode has them. */
  mtimeMs: number;
  /** The 60 bytes of i_block: extent root, block map, fast symlink target or inline data. */
  iBlock: Buffer;
  /** The whole on-disk inode (for in-inode extended attributes). */
  raw: Buffer;
  extraIsize: number;
}

export function parseInode(ino: number, raw: Buffer, blockSize: number): Ext4Inode {
  const extraIsize = raw.length > 128 ? raw.readUInt16LE(0x80) : 0;
  const flags = raw.readUInt32LE(0x20);
  const blocksLo = raw.readUInt32LE(0x1c) + raw.readUInt16LE(0x74) * 2 ** 32;
  return {
    ino,
    mode: raw.readUInt16LE(0x0),
    uid: raw.readUInt16LE(0x2) | (raw.readUInt16LE(0x78) << 16),
    gid: raw.readUInt16LE(0x18) | (raw.readUInt16LE(0x7a) << 16),
    size: raw.readUInt32LE(0x4) + raw.readUInt32LE(0x6c) * 2 ** 32,
    linksCount: raw.readUInt16LE(0x1a),
    flags,
    blocks: flags & INODE_FLAGS.HUGE_FILE ? blocksLo * (blockSize / 512) : blocksLo,
    fileAcl: raw.readUInt32LE(0x68) + raw.readUInt16LE(0x76) * 2 ** 32,
    mtimeMs: mtimeMs(raw, extraIsize),
    iBlock: raw.subarray(0x28, 0x28 + 60),
    raw,
    extraIsize,
  };
}

/**
 * A listing's entry for the inode at `at` in `buf` (an inode-table chunk), decoded in place: no copy, no view, no
 * object between the bytes and the entry, the fields read byte by byte (little-endian.ts). Same fields as parseInode.
 */
export function listedInodeEntry(buf: Buffer, at: number, inodeSize: number, path: string, name: string, ino: number): GuestEntry {
  const length = Math.min(inodeSize, buf.length - at);
  const mode = u16(buf, at);
  let seconds = u32(buf, at + 0x10) | 0; // signed 32-bit
  let nanos = 0;
  // i_mtime_extra sits at 0x88; it exists only when the extra area reaches past it.
  if (length >= 0x8c && 128 + u16(buf, at + 0x80) >= 0x8c) {
    const extra = u32(buf, at + 0x88);
    seconds += (extra & 3) * 2 ** 32; // epoch bits extend the signed 32-bit seconds past 2038
    nanos = extra >>> 2;
  }
  return {
    path,
    name,
    type: inodeType(mode),
    size: u32(buf, at + 0x4) + u32(buf, at + 0x6c) * 2 ** 32,
    mtime: new Date(seconds * 1000 + Math.floor(nanos / 1e6)),
    mode,
    uid: u16(buf, at + 0x2) | (u16(buf, at + 0x78) << 16),
    gid: u16(buf, at + 0x18) | (u16(buf, at + 0x7a) << 16),
    id: ino,
  };
}

function mtimeMs(raw: Buffer, extraIsize: number): number {
  return mtimeMsAt(raw, 0, raw.length, extraIsize);
}

function mtimeMsAt(buf: Buffer, at: number, length: number, extraIsize: number): number {
  let seconds = buf.readInt32LE(at + 0x10);
  let nanos = 0;
  // i_mtime_extra sits at 0x88; it exists only when the extra area reaches past it.
  if (length >= 0x8c && 128 + extraIsize >= 0x8c) {
    const extra = buf.readUInt32LE(at + 0x88);
    seconds += (extra & 3) * 2 ** 32; // epoch bits extend the signed 32-bit seconds past 2038
    nanos = extra >>> 2;
  }
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

export function inodeType(mode: number): 'file' | 'dir' | 'symlink' | 'other' {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return 'file';
    case S_IFDIR:
      return 'dir';
    case S_IFLNK:
      return 'symlink';
    default:
      return 'other';
  }
}

/**
 * The value of the in-inode extended attribute `system.data` (the rest of an inline-data file
 * beyond the 60 bytes of i_block), or an empty buffer when there is none.
 */
export function inlineDataXattr(inode: Ext4Inode): Buffer {
  const raw = inode.raw;
  const start = 128 + inode.extraIsize;
  if (raw.length < start + 4 || raw.readUInt32LE(start) !== 0xea020000) return Buffer.alloc(0);
  const entriesStart = start + 4;
  let p = entriesStart;
  while (p + 16 <= raw.length) {
    const nameLen = raw[p];
    const nameIndex = raw[p + 1];
    if (nameLen === 0 && nameIndex === 0 && raw.readUInt32LE(p) === 0) break; // end of entries
    const valueOffs = raw.readUInt16LE(p + 2);
    const valueSize = raw.readUInt32LE(p + 8);
    const name = raw.toString('latin1', p + 16, p + 16 + nameLen);
    // Name index 7 is the "system." prefix.
    if (nameIndex === 7 && name === 'data') {
      return raw.subarray(entriesStart + valueOffs, entriesStart + valueOffs + valueSize);
    }
    p += (16 + nameLen + 3) & ~3;
  }
  return Buffer.alloc(0);
}
