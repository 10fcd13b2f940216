import { open } from 'node:fs/promises';
import type { Extent } from '../../disks/block-source.js';
import { OpenemError } from '../../errors.js';
import { readQcow2Metadata, type Qcow2StoredBitmap } from './qcow2-header.js';

/** Bits 9-55 of a bitmap table entry: the data cluster's offset in the image; bit 0 with no offset: all ones. */
const ENTRY_OFFSET = 0x00fffffffffffe00n;
/** A bitmap of a 64 TiB disk at 64 KiB granularity; larger tables are not read into memory. */
const MAX_TABLE_BYTES = 8 * 1024 * 1024;

/**
 * The extents persistent dirty bitmap `name` of qcow2 image `image` marks dirty, read from its bitmap table and
 * data clusters (QEMU's docs/interop/qcow2.txt "Bitmaps": a table entry per cluster of bits, 0 = all zeros, 1 =
 * all ones, else the cluster's offset; bit k of the bitmap is bit k % 8 of byte k / 8), adjacent dirty bits merged.
 * The answer `qemu:dirty-bitmap:<name>` of a qemu-nbd export gives, without starting qemu-nbd.
 *
 * Only a bitmap that is enabled and not in use says what changed: undefined otherwise, or when the image has no
 * such bitmap. A QEMU that opens the image for writing marks its bitmaps in use and, closing it, may store them
 * elsewhere, so the directory is read again after the bits: a bitmap that changed meanwhile is no answer either.
 */
export async function readDirtyExtents(image: string, name: string): Promise<Extent[] | undefined> {
  const before = await readQcow2Metadata(image);
  const bitmap = trusted(before.bitmaps, name);
  if (!bitmap) return undefined;
  const extents = await readBits(image, bitmap, before.clusterBits, before.size);
  const after = trusted((await readQcow2Metadata(image)).bitmaps, name);
  if (!after || after.tableOffset !== bitmap.tableOffset || after.tableSize !== bitmap.tableSize) return undefined;
  return extents;
}

function trusted(bitmaps: Qcow2StoredBitmap[], name: string): Qcow2StoredBitmap | undefined {
  const b = bitmaps.find((x) => x.name === name);
  return b && b.flags.includes('auto') && !b.flags.includes('in-use') ? b : undefined;
}

async function readBits(image: string, bitmap: Qcow2StoredBitmap, clusterBits: number, size: number): Promise<Extent[]> {
  const bad = (why: string) => new OpenemError('UNAVAILABLE', `the dirty bitmap ${bitmap.name} of ${image} cannot be read: ${why}`);
  if (clusterBits < 9 || clusterBits > 21 || bitmap.granularityBits < 9 || bitmap.granularityBits > 31) throw bad('its cluster size or granularity is out of range');
  const clusterSize = 2 ** clusterBits;
  const granularity = 2 ** bitmap.granularityBits;
  const bitCount = Math.ceil(size / granularity);
  const bitsPerCluster = clusterSize * 8;
  if (bitmap.tableSize < Math.ceil(bitCount / bitsPerCluster)) throw bad('its table is shorter than the disk');
  if (bitmap.tableSize * 8 > MAX_TABLE_BYTES) throw bad('its table is larger than 8 MiB');
  const fh = await open(image, 'r');
  try {
    const table = Buffer.alloc(bitmap.tableSize * 8);
    if ((await fh.read(table, 0, table.length, bitmap.tableOffset)).bytesRead !== table.length) throw bad('its table is cut short');
    const out: Extent[] = [];
    const mark = (firstBit: number, bits: number) => {
      const offset = firstBit * granularity;
      const length = Math.min(bits * granularity, size - offset);
      const last = out[out.length - 1];
      if (last && last.offset + last.length === offset) last.length += length;
      else out.push({ offset, length });
    };
    const cluster = Buffer.alloc(clusterSize);
    for (let c = 0; c * bitsPerCluster < bitCount; c++) {
      const entry = table.readBigUInt64BE(c * 8);
      const first = c * bitsPerCluster;
      const bits = Math.min(bitsPerCluster, bitCount - first);
      const at = entry & ENTRY_OFFSET;
      if (at === 0n) {
        if (entry & 1n) mark(first, bits);
        continue;
      }
      if ((await fh.read(cluster, 0, clusterSize, Number(at))).bytesRead !== clusterSize) throw bad('a data cluster is cut short');
      for (let i = 0; i < bits; ) {
        const byte = cluster[i >> 3];
        if (byte === 0 && (i & 7) === 0) {
          i += 8;
          continue;
        }
        if ((byte >> (i & 7)) & 1) {
          let n = 1;
          while (i + n < bits && (cluster[(i + n) >> 3] >> ((i + n) & 7)) & 1) n++;
          mark(first + i, n);
          i += n;
        } else i++;
      }
    }
    return out;
  } finally {
    await fh.close();
  }
}
