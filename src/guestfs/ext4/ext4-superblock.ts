import { corrupt } from '../../errors.js';
import type { BlockSource } from '../../disks/block-source.js';

/** Byte offset of the primary superblock from the start of the filesystem. */
export const SUPERBLOCK_OFFSET = 1024;
const EXT4_MAGIC = 0xef53;

export const INCOMPAT = {
  FILETYPE: 0x2,
  RECOVER: 0x4,
  JOURNAL_DEV: 0x8,
  META_BG: 0x10,
  EXTENTS: 0x40,
  BIT64: 0x80,
  FLEX_BG: 0x200,
  INLINE_DATA: 0x8000,
  ENCRYPT: 0x10000,
} as const;
const RO_COMPAT_SPARSE_SUPER = 0x1;

/** The superblock fields the reader and the writer's space check need. */
export interface Ext4Superblock {
  inodesCount: number;
  blocksCount: number;
  reservedBlocksCount: number;
  freeBlocksCount: number;
  freeInodesCount: number;
  firstDataBlock: number;
  blockSize: number;
  blocksPerGroup: number;
  inodesPerGroup: number;
  inodeSize: number;
  featureCompat: number;
  featureIncompat: number;
  featureRoCompat: number;
  /** Group descriptor size: 32 unless INCOMPAT_64BIT, then s_desc_size. */
  descSize: number;
  firstMetaBg: number;
  groupCount: number;
  uuid: string;
  volumeName: string;
}

/** True when `sb` looks like an ext2/3/4 superblock (magic only; cheap probe). */
export async function hasExt4Magic(source: BlockSource): Promise<boolean> {
  if (source.size < SUPERBLOCK_OFFSET + 1024) return false;
  const b = await source.read(SUPERBLOCK_OFFSET + 0x38, 2);
  return b.length === 2 && b.readUInt16LE(0) === EXT4_MAGIC;
}

export async function readSuperblock(source: BlockSource): Promise<Ext4Superblock> {
  const b = await source.read(SUPERBLOCK_OFFSET, 1024);
  if (b.length < 1024 || b.readUInt16LE(0x38) !== EXT4_MAGIC) throw corrupt('no ext2/3/4 superblock (bad magic)');
  const incompat = b.readUInt32LE(0x60);
  const is64 = (incompat & INCOMPAT.BIT64) !== 0;
  const hi = (off: number) => (is64 ? b.readUInt32LE(off) * 2 ** 32 : 0);
  const logBlockSize = b.readUInt32LE(0x18);
  if (logBlockSize > 6) throw corrupt(`ext4 block size 2^(10+${logBlockSize}) is invalid`);
  const revLevel = b.readUInt32LE(0x4c);
  const sb: Ext4Superblock = {
    inodesCount: b.readUInt32LE(0x0),
    blocksCount: b.readUInt32LE(0x4) + hi(0x150),
    reservedBlocksCount: b.readUInt32LE(0x8) + hi(0x154),
    freeBlocksCount: b.readUInt32LE(0xc) + hi(0x158),
    freeInodesCount: b.readUInt32LE(0x10),
    firstDataBlock: b.readUInt32LE(0x14),
    blockSize: 1024 << logBlockSize,
    blocksPerGroup: b.readUInt32LE(0x20),
    inodesPerGroup: b.readUInt32LE(0x28),
    // Revision 0 filesystems have fixed 128-byte inodes.
    inodeSize: revLevel === 0 ? 128 : b.readUInt16LE(0x58),
    featureCompat: b.readUInt32LE(0x5c),
    featureIncompat: incompat,
    featureRoCompat: b.readUInt32LE(0x64),
    descSize: is64 ? b.readUInt16LE(0xfe) || 64 : 32,
    firstMetaBg: b.readUInt32LE(0x104),
    groupCount: 0,
    uuid: b.subarray(0x68, 0x78).toString('hex'),
    volumeName: b.toString('utf8', 0x78, 0x88).replace(/\0.*$/s, ''),
  };
  if (sb.blocksPerGroup === 0 || sb.inodesPerGroup === 0 || sb.inodeSize < 128 || sb.descSize < 32) {
    throw corrupt('ext4 superblock has zero or invalid geometry');
  }
  if (incompat & INCOMPAT.JOURNAL_DEV) throw corrupt('this is an external ext4 journal device, not a filesystem');
  sb.groupCount = Math.ceil((sb.blocksCount - sb.firstDataBlock) / sb.blocksPerGroup);
  return sb;
}

/** Whether block group `g` carries a superblock backup (and so its descriptor copy). */
export function groupHasSuperblock(sb: Ext4Superblock, g: number): boolean {
  if (g <= 1 || (sb.featureRoCompat & RO_COMPAT_SPARSE_SUPER) === 0) return true;
  for (const base of [3, 5, 7]) {
    let p = base;
    while (p < g) p *= base;
    if (p === g) return true;
  }
  return false;
}

/** The block holding group descriptor block `descBlock` (handles META_BG layouts). */
export function descriptorBlockNumber(sb: Ext4Superblock, descBlock: number): number {
  const sbBlock = sb.firstDataBlock; // block holding the primary superblock
  if ((sb.featureIncompat & INCOMPAT.META_BG) === 0 || descBlock < sb.firstMetaBg) {
    return sbBlock + 1 + descBlock;
  }
  // META_BG: each meta group's descriptors sit in its first group, after its superblock copy if any.
  const descPerBlock = sb.blockSize / sb.descSize;
  const group = descBlock * descPerBlock;
  const groupStart = sb.firstDataBlock + group * sb.blocksPerGroup;
  return groupStart + (groupHasSuperblock(sb, group) ? 1 : 0);
}
