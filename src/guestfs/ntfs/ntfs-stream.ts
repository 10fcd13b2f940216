import { Readable } from 'node:stream';
import type { BlockSource } from '../../disks/block-source.js';
import { corrupt } from '../../errors.js';
import type { ByteRange } from '../guest-filesystem.js';
import { decompressLznt1 } from './ntfs-lznt1.js';
import { ATTR_FLAG, type NtfsAttribute } from './ntfs-record.js';
import type { NtfsRun } from './ntfs-runlist.js';

/** Largest single source read while streaming (a whole number of compression units). */
const STREAM_CHUNK = 4 * 1024 * 1024;
/** NTFS compresses in units of 16 clusters of at most 4 KiB; anything much larger is not a real volume. */
const MAX_UNIT_BYTES = 1024 * 1024;

/** One attribute's value (a data stream, an index allocation, a bitmap), its extents joined in VCN order. */
export interface NtfsStream {
  size: number;
  /** Bytes past this read as zeros (Windows' valid data length). */
  initializedSize: number;
  resident?: Buffer;
  runs: NtfsRun[];
  clusterSize: number;
  /** Bytes per compression unit; 0 when the stream is not compressed. */
  unitBytes: number;
  encrypted: boolean;
}

/**
 * Joins the extents of one attribute (from the base record and its extension records) into one stream. The extents
 * must follow each other without gap or overlap, starting at VCN 0, and a stream that is neither sparse nor
 * compressed cannot be bigger than the volume: CORRUPT otherwise.
 */
export function streamOf(extents: NtfsAttribute[], clusterSize: number, volumeBytes: number): NtfsStream {
  const first = extents.find((e) => e.lowestVcn === 0);
  if (!first) throw corrupt('NTFS attribute has no extent at VCN 0');
  const encrypted = (first.flags & ATTR_FLAG.ENCRYPTED) !== 0;
  if (first.resident) return { size: first.resident.length, initializedSize: first.resident.length, resident: first.resident, runs: [], clusterSize, unitBytes: 0, encrypted };
  if ((first.flags & (ATTR_FLAG.SPARSE | ATTR_FLAG.COMPRESSED)) === 0 && first.allocatedSize > volumeBytes) {
    throw corrupt(`NTFS attribute claims ${first.allocatedSize} bytes on a volume of ${volumeBytes}`);
  }
  const sorted = [...extents].sort((a, b) => a.lowestVcn - b.lowestVcn);
  const runs: NtfsRun[] = [];
  let next = 0;
  for (const e of sorted) {
    if (e.resident || e.lowestVcn !== next) throw corrupt(`NTFS attribute extents do not follow each other (VCN ${e.lowestVcn}, expected ${next})`);
    runs.push(...e.runs);
    next = e.highestVcn + 1;
  }
  let unitBytes = 0;
  if ((first.flags & ATTR_FLAG.COMPRESSED) !== 0 && first.compressionUnit > 0) {
    unitBytes = first.compressionUnit <= 8 ? clusterSize * 2 ** first.compressionUnit : Infinity;
    if (unitBytes > MAX_UNIT_BYTES) throw corrupt(`NTFS compression unit of ${first.compressionUnit} clusters is too large`);
  }
  return { size: first.dataSize, initializedSize: Math.min(first.initializedSize, first.dataSize), runs, clusterSize, unitBytes, encrypted };
}

/** The index of the first run ending after `vcn` (runs are sorted and contiguous in VCN). */
function firstRunAfter(runs: NtfsRun[], vcn: number): number {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (runs[mid].vcn + runs[mid].length <= vcn) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Where byte `offset` of a plain stream (neither resident nor compressed) lies on the volume; `undefined` inside a
 * hole, past the runs, or for a stream that is not plain.
 */
export function volumeOffsetOf(s: NtfsStream, offset: number): number | undefined {
  if (s.resident || s.unitBytes !== 0) return undefined;
  const cs = s.clusterSize;
  const run = s.runs[firstRunAfter(s.runs, Math.floor(offset / cs))];
  if (!run || run.lcn === undefined || run.vcn * cs > offset) return undefined;
  return run.lcn * cs + (offset - run.vcn * cs);
}

/** Bytes [start, end) of the clusters the runs map (no decompression); holes and unmapped clusters read as zeros. */
async function readMapped(source: BlockSource, s: NtfsStream, start: number, end: number): Promise<Buffer> {
  const out = Buffer.alloc(end - start);
  const cs = s.clusterSize;
  const reads: Promise<void>[] = [];
  for (let i = firstRunAfter(s.runs, Math.floor(start / cs)); i < s.runs.length; i++) {
    const run = s.runs[i];
    const runStart = run.vcn * cs;
    if (runStart >= end) break;
    if (run.lcn === undefined) continue;
    const from = Math.max(start, runStart);
    const to = Math.min(end, runStart + run.length * cs);
    const at = run.lcn * cs + (from - runStart);
    reads.push(source.read(at, to - from).then((b) => void b.copy(out, from - start)));
  }
  await Promise.all(reads);
  return out;
}

/** How many clusters of [vcn, vcn + count) hold data (are not sparse). */
function allocatedClusters(runs: NtfsRun[], vcn: number, count: number): number {
  let n = 0;
  for (let i = firstRunAfter(runs, vcn); i < runs.length && runs[i].vcn < vcn + count; i++) {
    if (runs[i].lcn === undefined) continue;
    n += Math.min(vcn + count, runs[i].vcn + runs[i].length) - Math.max(vcn, runs[i].vcn);
  }
  return n;
}

/** One compression unit's bytes: zeros (all sparse), stored as is (no sparse cluster), or LZNT1 (some sparse). */
async function readUnit(source: BlockSource, s: NtfsStream, unit: number): Promise<Buffer> {
  const clusters = s.unitBytes / s.clusterSize;
  const vcn = unit * clusters;
  const used = allocatedClusters(s.runs, vcn, clusters);
  const start = unit * s.unitBytes;
  if (used === 0) return Buffer.alloc(s.unitBytes);
  if (used === clusters) return readMapped(source, s, start, start + s.unitBytes);
  const out = Buffer.alloc(s.unitBytes);
  decompressLznt1(await readMapped(source, s, start, start + used * s.clusterSize), out);
  return out;
}

/** Bytes [start, end) of a stream, cut at its size; holes, sparse and uninitialised parts read as zeros. */
export async function readStream(source: BlockSource, s: NtfsStream, start: number, end: number): Promise<Buffer> {
  end = Math.min(end, s.size);
  if (end <= start) return Buffer.alloc(0);
  if (s.resident) return s.resident.subarray(start, end);
  if (s.unitBytes === 0) {
    const valid = Math.min(end, s.initializedSize);
    if (valid <= start) return Buffer.alloc(end - start);
    const data = await readMapped(source, s, start, valid);
    return valid === end ? data : Buffer.concat([data, Buffer.alloc(end - valid)]);
  }
  const first = Math.floor(start / s.unitBytes);
  const last = Math.ceil(end / s.unitBytes);
  const units = await Promise.all(Array.from({ length: last - first }, (_, i) => readUnit(source, s, first + i)));
  const all = units.length === 1 ? units[0] : Buffer.concat(units);
  return all.subarray(start - first * s.unitBytes, end - first * s.unitBytes);
}

/** Streams bytes [start, end) in chunks, one chunk read ahead, so memory stays at about two chunks. */
export function streamBytes(source: BlockSource, s: NtfsStream, start: number, end: number): Readable {
  end = Math.min(end, s.size);
  const chunk = s.unitBytes ? Math.max(s.unitBytes, STREAM_CHUNK - (STREAM_CHUNK % s.unitBytes)) : STREAM_CHUNK;
  let pos = start;
  const next = (): Promise<Buffer> | undefined => {
    if (pos >= end) return undefined;
    const to = Math.min(end, (Math.floor(pos / chunk) + 1) * chunk);
    const p = readStream(source, s, pos, to);
    pos = to;
    return p;
  };
  let ahead: Promise<Buffer> | undefined;
  return new Readable({
    highWaterMark: STREAM_CHUNK,
    read() {
      const current = ahead ?? next();
      if (!current) {
        this.push(null);
        return;
      }
      ahead = next();
      ahead?.catch(() => undefined);
      current.then(
        (buf) => this.push(buf),
        (err) => this.destroy(err as Error),
      );
    },
  });
}

/** Where a stream holds data, in order and merged; the rest (sparse runs, unused compression units) is holes. */
export function dataRangesOf(s: NtfsStream): ByteRange[] {
  if (s.size === 0) return [];
  if (s.resident) return [{ start: 0, end: s.size }];
  const out: ByteRange[] = [];
  const push = (start: number, end: number) => {
    end = Math.min(end, s.size);
    if (end <= start) return;
    const prev = out[out.length - 1];
    if (prev && start <= prev.end) prev.end = Math.max(prev.end, end);
    else out.push({ start, end });
  };
  const cs = s.clusterSize;
  if (s.unitBytes === 0) {
    for (const run of s.runs) if (run.lcn !== undefined) push(run.vcn * cs, (run.vcn + run.length) * cs);
    return out;
  }
  // A compression unit holds data when any of its clusters is allocated; walking the runs (not the units) keeps a
  // huge sparse file cheap.
  const clusters = s.unitBytes / cs;
  for (const run of s.runs) {
    if (run.lcn === undefined) continue;
    const first = Math.floor(run.vcn / clusters);
    const last = Math.floor((run.vcn + run.length - 1) / clusters);
    push(first * s.unitBytes, (last + 1) * s.unitBytes);
  }
  return out;
}
