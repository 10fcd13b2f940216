import type { BlockSource } from '../../disks/block-source.js';
import { corrupt } from '../../errors.js';
import { LruCache } from '../lru-cache.js';
import type { NtfsBootSector } from './ntfs-boot-sector.js';
import { ATTR, parseFileRecord, referenceRecord, type NtfsAttribute, type NtfsFileRecord } from './ntfs-record.js';
import { readStream, streamOf, type NtfsStream } from './ntfs-stream.js';

/** The $MFT is read in chunks of this many bytes, so a folder's records come in a few large reads. */
const MFT_CHUNK = 64 * 1024;
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
    const chunk = await this.chunks.getOrCreate(start, () => readStream(this.source, this.mft, start, start + MFT_CHUNK));
    const raw = chunk.subarray(offset - start, offset - start + rs);
    if (raw.length < rs) throw corrupt(`NTFS file record ${n} lies past the end of the $MFT`);
    return raw;
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
