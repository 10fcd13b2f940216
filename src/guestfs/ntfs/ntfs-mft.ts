import { BLOCK_SIZE, type BlockSource } from '../../disks/block-source.js';
import { corrupt } from '../../errors.js';
import { LruCache } from '../lru-cache.js';
import { fixupsFailAt } from './ntfs-fixups.js';
import type { NtfsBootSector } from './ntfs-boot-sector.js';
import { ATTR, parseFileRecord, referenceRecord, type NtfsAttribute, type NtfsFileRecord } from './ntfs-record.js';
import { readStream, streamOf, volumeOffsetOf, type NtfsStream } from './ntfs-stream.js';

/** The $MFT is read in chunks of this many bytes, so a folder's records come in a few large reads. */
const MFT_CHUNK = 64 * 1024;
/**
 * A listing reads the $MFT in spans of up to this many bytes, each once and each inside one window of the volume this
 * size and aligned to it: on a partition that starts on a 1 MiB boundary (where every partitioning tool since Windows
 * Vista puts them) a span is then inside one repository block, which a restore point's disk hands out without
 * copying it into a buffer of its own (the span is copied once, to apply its fixups), ...
 */
const SPAN_BYTES = BLOCK_SIZE;
/** ... reading through gaps of up to this many bytes between the records it needs rather than starting a new span. */
const SPAN_GAP = 64 * 1024;
/** Spans read ahead of the one being visited (each read may decode a repository block on a worker). */
const SPANS_IN_FLIGHT = 4;
/** Real attribute lists stay well under this (a few thousand extents); a bigger one is damage or hostility. */
const MAX_ATTRIBUTE_LIST = 1024 * 1024;
/** What openem reads of a reparse point's value: Windows caps reparse data at 16 KiB. */
export const MAX_REPARSE_DATA = 16 * 1024;

/** A file as NTFS describes it: its base record's header and every attribute, extension records' included. */
export interface NtfsFile {
  number: number;
  sequence: number;
  isDirectory: boolean;
  attributes: NtfsAttribute[];
}

/** The master file table: file records by number, each with its attribute list resolved. */
export class NtfsMft {
  private readonly chunks = new LruCache<number, Promise<Buffer>>(64);
  private readonly files = new LruCache<number, Promise<NtfsFile>>(16384);
  /** Reads of the $MFT's bytes so far (record chunks and listing spans): a listing's cost is countable without timing it. */
  mftReads = 0;

  private constructor(
    readonly source: BlockSource,
    readonly boot: NtfsBootSector,
    private readonly mft: NtfsStream,
    readonly recordCount: number,
  ) {}

  /**
   * Reads record 0 ($MFT itself) where the boot sector says, and the records its attribute list names (a
   * fragmented $MFT), through the runs known so far: the first extent always maps the first records.
   */
  static async open(source: BlockSource, boot: NtfsBootSector): Promise<NtfsMft> {
    const rs = boot.mftRecordSize;
    const raw = await source.read(boot.mftLcn * boot.clusterSize, rs);
    if (raw.length < rs) throw corrupt('NTFS $MFT lies past the end of the volume');
    const zero = parseFileRecord(raw, 0, boot.totalClusters);
    if (!zero.inUse) throw corrupt('NTFS $MFT record is not in use');
    const volumeBytes = boot.totalClusters * boot.clusterSize;
    const dataOf = (attrs: NtfsAttribute[]) => attrs.filter((a) => a.type === ATTR.DATA && a.name === '');
    let stream = streamOf(dataOf(zero.attributes), boot.clusterSize, volumeBytes);
    const list = zero.attributes.find((a) => a.type === ATTR.ATTRIBUTE_LIST);
    if (list) {
      const bootstrap = new NtfsMft(source, boot, stream, Math.floor(Math.min(stream.size, volumeBytes) / rs));
      const extents = [...dataOf(zero.attributes)];
      for (const n of await bootstrap.listedRecords(zero, list)) {
        const ext = parseFileRecord(await bootstrap.rawRecord(n), n, boot.totalClusters);
        extents.push(...dataOf(ext.attributes));
      }
      stream = streamOf(extents, boot.clusterSize, volumeBytes);
    }
    if (stream.resident || stream.size > volumeBytes || stream.size < 16 * rs) throw corrupt(`NTFS $MFT of ${stream.size} bytes does not fit the volume`);
    return new NtfsMft(source, boot, stream, Math.floor(stream.size / rs));
  }

  get volumeBytes(): number {
    return this.boot.totalClusters * this.boot.clusterSize;
  }

  /** The raw bytes of file record `n` (fixups not yet applied). */
  async rawRecord(n: number): Promise<Buffer> {
    const rs = this.boot.mftRecordSize;
    if (!Number.isSafeInteger(n) || n < 0 || n >= this.recordCount) throw corrupt(`NTFS file record ${n} is outside the $MFT`);
    const offset = n * rs;
    const start = offset - (offset % MFT_CHUNK);
    const chunk = await this.chunks.getOrCreate(start, () => {
      this.mftReads++;
      return readStream(this.source, this.mft, start, start + MFT_CHUNK);
    });
    const raw = chunk.subarray(offset - start, offset - start + rs);
    if (raw.length < rs) throw corrupt(`NTFS file record ${n} lies past the end of the $MFT`);
    return raw;
  }

  /**
   * Many file records, for a folder listing: `visit(i, b, at)` is called once for each `numbers[i]`, its record at
   * `b[at, at + record size)` with its fixups applied, or `at` = -1 when they fail (a torn or damaged record, which
   * the caller reads the full way to say CORRUPT). The records are read in $MFT order, in spans of up to 1 MiB, each
   * inside one 1 MiB window of the volume (through gaps of up to 64 KiB: a folder's files are mostly neighbours in the
   * $MFT), a few spans in flight, each read once into a buffer of its own (not cached) and fixed up in place; nothing
   * is allocated or copied per record.
   * `b` is valid only during the call. CORRUPT, as rawRecord, for a number outside the $MFT.
   */
  async forEachRecord(numbers: readonly number[], visit: (i: number, b: Buffer, at: number) => void): Promise<void> {
    const rs = this.boot.mftRecordSize;
    for (const n of numbers) if (!Number.isSafeInteger(n) || n < 0 || n >= this.recordCount) throw corrupt(`NTFS file record ${n} is outside the $MFT`);
    const order = Array.from(numbers.keys());
    // A folder's names are often in the order its files were made, so their records already ascend: no sort then.
    let ascending = true;
    for (let i = 1; i < numbers.length && ascending; i++) ascending = numbers[i - 1] <= numbers[i];
    if (!ascending) order.sort((a, b) => numbers[a] - numbers[b]);
    /** `window`: which SPAN_BYTES window of the volume the span's first record lies in (-1: not known). */
    const spans: { start: number; end: number; first: number; window: number }[] = [];
    for (let j = 0; j < order.length; j++) {
      const offset = numbers[order[j]] * rs;
      const last = spans[spans.length - 1];
      const at = volumeOffsetOf(this.mft, offset);
      const window = at === undefined ? -1 : Math.floor(at / SPAN_BYTES);
      if (last && window === last.window && offset + rs - last.start <= SPAN_BYTES && offset - last.end <= SPAN_GAP) last.end = Math.max(last.end, offset + rs);
      else spans.push({ start: offset, end: offset + rs, first: j, window });
    }
    const read = (k: number): Promise<Buffer> => {
      this.mftReads++;
      const p = readStream(this.source, this.mft, spans[k].start, spans[k].end);
      // Awaited in order below; a later span failing while an earlier one is awaited must not go unhandled.
      p.catch(() => undefined);
      return p;
    };
    const reads: (Promise<Buffer> | undefined)[] = [];
    for (let k = 0; k < Math.min(SPANS_IN_FLIGHT, spans.length); k++) reads[k] = read(k);
    for (let k = 0; k < spans.length; k++) {
      const b = await reads[k]!;
      reads[k] = undefined;
      if (k + SPANS_IN_FLIGHT < spans.length) reads[k + SPANS_IN_FLIGHT] = read(k + SPANS_IN_FLIGHT);
      const { start, end } = spans[k];
      if (b.length < end - start) throw corrupt(`NTFS file record ${Math.floor((start + b.length) / rs)} lies past the end of the $MFT`);
      const stop = k + 1 < spans.length ? spans[k + 1].first : order.length;
      let fixed = -1;
      let at = -1;
      for (let j = spans[k].first; j < stop; j++) {
        const n = numbers[order[j]];
        // One record named twice (hard links in one folder) is next to itself in `order`: fixed up once.
        if (n !== fixed) {
          fixed = n;
          at = n * rs - start;
          if (fixupsFailAt(b, at, rs, 'FILE') !== undefined) at = -1;
        }
        visit(order[j], b, at);
      }
    }
  }

  /** File `n` with all its attributes; CORRUPT when it is not an in-use base record. */
  file(n: number): Promise<NtfsFile> {
    return this.files.getOrCreate(n, () => this.loadFile(n));
  }

  private async loadFile(n: number): Promise<NtfsFile> {
    const base = parseFileRecord(await this.rawRecord(n), n, this.boot.totalClusters);
    if (!base.inUse) throw corrupt(`NTFS file record ${n} is not in use`);
    if (base.baseRecord !== 0) throw corrupt(`NTFS file record ${n} is an extension of record ${base.baseRecord}, not a file`);
    const attributes = [...base.attributes];
    const list = base.attributes.find((a) => a.type === ATTR.ATTRIBUTE_LIST);
    if (list) {
      for (const m of await this.listedRecords(base, list)) {
        const ext = parseFileRecord(await this.rawRecord(m), m, this.boot.totalClusters);
        if (!ext.inUse || ext.baseRecord !== n) throw corrupt(`NTFS file record ${m} is listed by record ${n} but does not extend it`);
        // An extension record's own attribute list would be damage; its other attributes belong to the file.
        attributes.push(...ext.attributes.filter((a) => a.type !== ATTR.ATTRIBUTE_LIST));
      }
    }
    return { number: n, sequence: base.sequence, isDirectory: base.isDirectory, attributes };
  }

  /** The other records an $ATTRIBUTE_LIST names, each once. */
  private async listedRecords(base: NtfsFileRecord, list: NtfsAttribute): Promise<number[]> {
    const stream = streamOf([list], this.boot.clusterSize, this.volumeBytes);
    if (stream.size > MAX_ATTRIBUTE_LIST) throw corrupt(`NTFS file record ${base.number} has an attribute list of ${stream.size} bytes`);
    const b = await readStream(this.source, stream, 0, stream.size);
    const out = new Set<number>();
    let at = 0;
    while (at + 0x1a <= b.length) {
      const length = b.readUInt16LE(at + 4);
      if (length < 0x1a || at + length > b.length) throw corrupt(`NTFS file record ${base.number} has an attribute list entry of invalid length ${length}`);
      const record = referenceRecord(b, at + 0x10);
      if (record !== base.number) out.add(record);
      at += length;
    }
    return [...out];
  }

  /** Reads a stream of this volume (for callers holding an NtfsStream). */
  read(stream: NtfsStream, start: number, end: number): Promise<Buffer> {
    return readStream(this.source, stream, start, end);
  }
}
