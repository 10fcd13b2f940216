import { corrupt } from '../../errors.js';
import { visitIndexBlock, visitIndexRoot, type IndexEntryVisitor } from './ntfs-index.js';
import type { NtfsFile, NtfsMft } from './ntfs-mft.js';
import { attributeStream } from './ntfs-node.js';
import { ATTR } from './ntfs-record.js';

/** INDX blocks are read this many bytes at a time. */
const INDEX_READ = 1024 * 1024;

/**
 * Visits every entry of one of a file's indexes (`$I30` of a folder, `$SII` of $Secure): the root node in
 * $INDEX_ROOT, then every INDX block of $INDEX_ALLOCATION that $BITMAP marks in use, in disk order. Every node of
 * the B+ tree is read, so every key is met once, without trusting the tree's child pointers. CORRUPT when the index
 * has no root or is larger than the volume.
 */
export async function visitIndex(mft: NtfsMft, file: NtfsFile, name: string, what: string, visit: IndexEntryVisitor): Promise<void> {
  const root = attributeStream(mft, file, ATTR.INDEX_ROOT, name);
  if (!root?.resident) throw corrupt(`${what} has no $INDEX_ROOT ${name}`);
  visitIndexRoot(root.resident, what, visit);
  const alloc = attributeStream(mft, file, ATTR.INDEX_ALLOCATION, name);
  if (!alloc) return;
  const bs = mft.boot.indexRecordSize;
  if (alloc.size > mft.volumeBytes) throw corrupt(`${what} has an index larger than the volume`);
  const bitmapStream = attributeStream(mft, file, ATTR.BITMAP, name);
  const blocks = Math.floor(alloc.size / bs);
  const bitmap = bitmapStream ? await mft.read(bitmapStream, 0, Math.min(bitmapStream.size, Math.ceil(blocks / 8))) : undefined;
  const perRead = Math.max(1, Math.floor(INDEX_READ / bs));
  // The next read is in flight while one is visited (each may decode a repository block on a worker).
  const readFrom = (first: number): Promise<Buffer> | undefined => {
    if (first >= blocks) return undefined;
    const p = mft.read(alloc, first * bs, Math.min(blocks, first + perRead) * bs);
    // Awaited in order below; a read failing while an earlier block is visited must not go unhandled.
    p.catch(() => undefined);
    return p;
  };
  let next = readFrom(0);
  for (let first = 0; first < blocks; first += perRead) {
    const count = Math.min(perRead, blocks - first);
    // readStream of a non-resident stream gives a fresh buffer, so the blocks' fixups go in place; a resident
    // $INDEX_ALLOCATION (never written by Windows) would give a view of the cached record, so it is copied.
    const read = await next!;
    next = readFrom(first + perRead);
    const data = alloc.resident ? Buffer.from(read) : read;
    for (let i = 0; i < count; i++) {
      const block = first + i;
      if (bitmap && !(bitmap[block >> 3] & (1 << (block & 7)))) continue;
      visitIndexBlock(data.subarray(i * bs, (i + 1) * bs), `${what} index block ${block}`, visit);
    }
  }
}
