import { corrupt } from '../../errors.js';
import { INODE_FLAGS, type Ext4Inode } from './ext4-inode.js';

/** A run of file blocks mapped to contiguous filesystem blocks. Gaps between runs are holes. */
export interface BlockRun {
  logical: number;
  physical: number;
  length: number;
  /** Uninitialized (preallocated) extent: reads as zeros. */
  uninit: boolean;
}

export interface BlockReader {
  blockSize: number;
  readBlock(block: number): Promise<Buffer>;
}

const EXTENT_MAGIC = 0xf30a;
/** ext4 never builds trees deeper than 5; a deeper one is a loop or garbage. */
const MAX_EXTENT_DEPTH = 5;
const UNINIT_LEN_BIAS = 32768;

/** Maps a file's logical blocks to filesystem blocks, from its extent tree or its old block map. */
export async function readBlockRuns(inode: Ext4Inode, fs: BlockReader): Promise<BlockRun[]> {
  const runs: BlockRun[] = [];
  if (inode.flags & INODE_FLAGS.EXTENTS) {
    await walkExtentNode(inode.iBlock, MAX_EXTENT_DEPTH + 1, fs, runs, inode.ino);
  } else {
    await walkBlockMap(inode, fs, runs);
  }
  runs.sort((a, b) => a.logical - b.logical);
  return runs;
}

async function walkExtentNode(node: Buffer, depthLimit: number, fs: BlockReader, out: BlockRun[], ino: number) {
  if (node.readUInt16LE(0) !== EXTENT_MAGIC) throw corrupt(`inode ${ino}: bad extent header magic`);
  const entries = node.readUInt16LE(2);
  const depth = node.readUInt16LE(6);
  if (depth >= depthLimit || 12 + entries * 12 > node.length) {
    throw corrupt(`inode ${ino}: extent tree is malformed (depth ${depth}, ${entries} entries)`);
  }
  for (let i = 0; i < entries; i++) {
    const e = 12 + i * 12;
    if (depth > 0) {
      const child = node.readUInt32LE(e + 4) + node.readUInt16LE(e + 8) * 2 ** 32;
      await walkExtentNode(await fs.readBlock(child), depth, fs, out, ino);
      continue;
    }
    const rawLen = node.readUInt16LE(e + 4);
    const uninit = rawLen > UNINIT_LEN_BIAS;
    const run: BlockRun = {
      logical: node.readUInt32LE(e),
      physical: node.readUInt32LE(e + 8) + node.readUInt16LE(e + 6) * 2 ** 32,
      length: uninit ? rawLen - UNINIT_LEN_BIAS : rawLen,
      uninit,
    };
    if (run.length > 0) appendRun(out, run);
  }
}

/** Old ext2/3 block map: 12 direct pointers, then single, double and triple indirect blocks. */
async function walkBlockMap(inode: Ext4Inode, fs: BlockReader, out: BlockRun[]) {
  const fileBlocks = Math.ceil(inode.size / fs.blockSize);
  const perBlock = fs.blockSize / 4;
  for (let i = 0; i < 12 && i < fileBlocks; i++) {
    const p = inode.iBlock.readUInt32LE(i * 4);
    if (p) appendRun(out, { logical: i, physical: p, length: 1, uninit: false });
  }
  let base = 12;
  for (let level = 1; level <= 3 && base < fileBlocks; level++) {
    const ptr = inode.iBlock.readUInt32LE((11 + level) * 4);
    if (ptr) await walkIndirect(ptr, level, base, fileBlocks, perBlock, fs, out);
    base += perBlock ** level;
  }
}

async function walkIndirect(
  block: number, level: number, base: number, limit: number, perBlock: number, fs: BlockReader, out: BlockRun[],
) {
  const data = await fs.readBlock(block);
  const span = perBlock ** (level - 1);
  for (let i = 0; i < perBlock; i++) {
    const logical = base + i * span;
    if (logical >= limit) break;
    const p = data.readUInt32LE(i * 4);
    if (!p) continue; // a zero pointer is a hole of `span` blocks
    if (level === 1) appendRun(out, { logical, physical: p, length: 1, uninit: false });
    else await walkIndirect(p, level - 1, logical, limit, perBlock, fs, out);
  }
}

/** Appends, merging with the previous run when both logically and physically contiguous. */
function appendRun(out: BlockRun[], run: BlockRun) {
  const last = out[out.length - 1];
  if (
    last &&
    last.uninit === run.uninit &&
    last.logical + last.length === run.logical &&
    last.physical + last.length === run.physical
  ) {
    last.length += run.length;
  } else {
    out.push({ ...run });
  }
}

/** Index of the first run that ends after `logical` (binary search over sorted runs). */
export function firstRunEndingAfter(runs: BlockRun[], logical: number): number {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (runs[mid].logical + runs[mid].length <= logical) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
