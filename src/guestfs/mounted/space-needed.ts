import type { GuestItem } from '../guest-writer.js';
import { itemsOf } from '../guest-writer.js';

export interface SpaceNeeded {
  blocks: number;
  inodes: number;
  /** File data bytes that will be written (holes excluded). */
  dataBytes: number;
}

/** Safety margin for metadata the estimate misses (directory growth, extent blocks, bitmaps). */
export const SPARE_BLOCKS = 64;

/**
 * What writing `item` takes on a filesystem of `blockSize`: data blocks of its data ranges only (holes cost
 * nothing), extent blocks for fragmented files, folder blocks for their entries, slow symlinks' blocks, one
 * inode each. The replaced item's space is not counted as free: the replacement is complete before the
 * original goes (see write-into-mounted-folder.ts).
 */
export function spaceNeeded(item: GuestItem, blockSize: number): SpaceNeeded {
  const need: SpaceNeeded = { blocks: 0, inodes: 0, dataBytes: 0 };
  const linked = new Set<string>();
  for (const it of itemsOf(item)) {
    // A further name of a hard-linked file is only a directory entry; its folder's blocks count it.
    if (it.type === 'file' && it.hardLink !== undefined) {
      if (linked.has(it.hardLink)) continue;
      linked.add(it.hardLink);
    }
    need.inodes += 1;
    // An NTFS item's named streams take data blocks like its main data (and, small ones, room in its record).
    for (const stream of it.attrs.windows?.streams ?? []) {
      for (const r of stream.dataRanges) {
        need.blocks += Math.ceil(r.end / blockSize) - Math.floor(r.start / blockSize);
        need.dataBytes += r.end - r.start;
      }
    }
    if (it.type === 'file') {
      let blocks = 0;
      for (const r of it.dataRanges) {
        blocks += Math.ceil(r.end / blockSize) - Math.floor(r.start / blockSize);
        need.dataBytes += r.end - r.start;
      }
      // An extent maps at most 32768 blocks; the inode holds 4, an extent block (blockSize - 12) / 12.
      const extents = it.dataRanges.length + Math.floor(blocks / 32768);
      const extentBlocks = extents > 4 ? Math.ceil(extents / Math.floor((blockSize - 12) / 12)) + 1 : 0;
      need.blocks += blocks + extentBlocks;
    } else if (it.type === 'symlink') {
      // Targets under 60 bytes live in the inode ("fast" symlinks).
      if (it.target.length >= 60) need.blocks += Math.ceil(it.target.length / blockSize);
    } else {
      // Each entry takes 8 bytes plus its name rounded up to 4; a quarter more for partly filled blocks.
      const entryBytes = it.children.reduce((n, c) => n + 8 + Math.ceil(c.name.length / 4) * 4, 24);
      need.blocks += Math.max(1, Math.ceil((entryBytes * 1.25) / blockSize));
    }
  }
  return need;
}
