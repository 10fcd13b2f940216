import { open } from 'node:fs/promises';
import { OpenemError } from '../../errors.js';

const QCOW2_MAGIC = 0x514649fb;
const BITMAPS_EXTENSION = 0x23852875;
/** autoclear_features bit 0: the bitmaps extension is consistent (a QEMU that knows bitmaps wrote the image last). */
const AUTOCLEAR_BITMAPS = 1n;
/** Far more than a header and its extensions hold; a bitmap directory is read on its own. */
const HEADER_READ = 64 * 1024;
const MAX_DIRECTORY = 1024 * 1024;

/** A persistent dirty bitmap as the image's bitmap directory records it (qemu-img info's `flags` words). */
export interface Qcow2Bitmap {
  name: string;
  flags: ('in-use' | 'auto')[];
}

/** What openem needs of a qcow2 image's own metadata: its virtual size and its persistent bitmaps. */
export interface Qcow2Header {
  size: number;
  bitmaps: Qcow2Bitmap[];
}

/** A bitmap directory entry with where its bits are stored (qcow2.txt "Bitmap directory"). */
export interface Qcow2StoredBitmap extends Qcow2Bitmap {
  tableOffset: number;
  /** Entries of its bitmap table, one a cluster of bits. */
  tableSize: number;
  /** Each bit covers 2^granularityBits bytes of the disk. */
  granularityBits: number;
}

/** The header and the bitmap directory with each bitmap's table, for reading a bitmap's bits. */
export interface Qcow2Metadata {
  size: number;
  clusterBits: number;
  bitmaps: Qcow2StoredBitmap[];
}

/**
 * Reads a qcow2 image's header, its header extensions and its bitmap directory (QEMU's docs/interop/qcow2.txt:
 * "Header", "Header extensions", "Bitmaps extension", "Bitmap directory"), the answers `qemu-img info` gives,
 * without starting it. The image's metadata is QEMU's, not the guest's; a guest writes only the clusters.
 */
export async function readQcow2Header(image: string): Promise<Qcow2Header> {
  const m = await readQcow2Metadata(image);
  return { size: m.size, bitmaps: m.bitmaps.map(({ name, flags }) => ({ name, flags })) };
}

/** readQcow2Header's answers with the cluster size and where each bitmap's table is. */
export async function readQcow2Metadata(image: string): Promise<Qcow2Metadata> {
  const fh = await open(image, 'r');
  try {
    const head = Buffer.alloc(HEADER_READ);
    const { bytesRead } = await fh.read(head, 0, HEADER_READ, 0);
    const bad = (why: string) => new OpenemError('UNAVAILABLE', `${image} is not a qcow2 image openem reads: ${why}`);
    if (bytesRead < 72 || head.readUInt32BE(0) !== QCOW2_MAGIC) throw bad('no qcow2 magic');
    const version = head.readUInt32BE(4);
    const clusterBits = head.readUInt32BE(20);
    const size = Number(head.readBigUInt64BE(24));
    if (version < 3) return { size, clusterBits, bitmaps: [] };
    const autoclear = head.readBigUInt64BE(88);
    let at = head.readUInt32BE(100);
    let directory: { offset: number; size: number; count: number } | undefined;
    for (;;) {
      if (at + 8 > bytesRead) throw bad('its header extensions run past the first 64 KiB');
      const type = head.readUInt32BE(at);
      const length = head.readUInt32BE(at + 4);
      if (type === 0) break;
      if (type === BITMAPS_EXTENSION && length >= 24) {
        directory = { count: head.readUInt32BE(at + 8), size: Number(head.readBigUInt64BE(at + 16)), offset: Number(head.readBigUInt64BE(at + 24)) };
      }
      at += 8 + Math.ceil(length / 8) * 8;
    }
    if (!directory || (autoclear & AUTOCLEAR_BITMAPS) === 0n || directory.count === 0) return { size, clusterBits, bitmaps: [] };
    if (directory.size > MAX_DIRECTORY) throw bad('its bitmap directory is larger than 1 MiB');
    const dir = Buffer.alloc(directory.size);
    // A file that ends inside the directory would read as zeros past its end: nameless, disabled bitmaps.
    if ((await fh.read(dir, 0, directory.size, directory.offset)).bytesRead !== directory.size) {
      throw bad(`its bitmap directory (${directory.size} bytes at ${directory.offset}) runs past the end of the file`);
    }
    const bitmaps: Qcow2StoredBitmap[] = [];
    for (let e = 0, i = 0; i < directory.count; i++) {
      if (e + 24 > dir.length) throw bad('its bitmap directory is cut short');
      const flags = dir.readUInt32BE(e + 12);
      const nameSize = dir.readUInt16BE(e + 18);
      const extra = dir.readUInt32BE(e + 20);
      const name = dir.subarray(e + 24 + extra, e + 24 + extra + nameSize).toString('utf8');
      bitmaps.push({
        name,
        flags: [...(flags & 1 ? (['in-use'] as const) : []), ...(flags & 2 ? (['auto'] as const) : [])],
        tableOffset: Number(dir.readBigUInt64BE(e)),
        tableSize: dir.readUInt32BE(e + 8),
        granularityBits: dir.readUInt8(e + 17),
      });
      e += Math.ceil((24 + extra + nameSize) / 8) * 8;
    }
    return { size, clusterBits, bitmaps };
  } finally {
    await fh.close();
  }
}
