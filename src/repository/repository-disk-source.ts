import { BLOCK_SIZE, type BlockSource, type Extent } from '../disks/block-source.js';
import type { BlobStore } from './blob-store.js';
import type { BlockCodecPool } from './block-codec-pool.js';
import { locateBlocks, planPackReads, readPackRange, type PackRead } from './block-fetcher.js';
import type { PackIndex } from './pack-index.js';
import type { DiskManifest } from './repository.js';

const DEFAULT_CACHE_BLOCKS = 32;
/**
 * Blocks one pack read of a batch brings at most: a batch's neighbours are read together, and a long run is still
 * split into a few decode jobs, so the codec workers decode it side by side.
 */
const BATCH_READ_BLOCKS = 8;

/** A block wanted whole (kept in the cache) or, with `slice`, only one piece of it ([start, end) in the block). */
interface QueuedLoad {
  index: number;
  hash: string;
  slice?: [number, number];
  resolve: (data: Buffer) => void;
  reject: (e: unknown) => void;
}

/** A read of at most this much of a block, of a block not read before, takes only its piece (see `read`). */
const SLICE_READ_MAX = 64 * 1024;

/**
 * A disk of a restore point as a block source, read straight from packs. Decompressed, verified blocks
 * sit in a small LRU cache (a Map in use order), so the ext4 reader's many 4 KiB reads inside one block
 * cost one pack read, one decompression and one hash check. The blocks missed in one turn of the event loop
 * are loaded as one batch: a listing asks for a folder's scattered directory blocks all at once, and the ones
 * that lie near each other in a pack come in one read and one decode job (restic's restorer, STYLE.md).
 * A small read of a block not read before is decoded and verified in the worker's own memory and only its piece
 * comes back: a 10,000-entry folder's 59 directory blocks lie in 45 repository blocks, each read once, and keeping
 * 45 MiB for 236 KiB of entries was most of what a listing cost in memory and garbage collection. A block read a
 * second time is loaded whole and kept, so small files read one after another still cost one decode a block.
 */
export class RepositoryDiskSource implements BlockSource {
  readonly size: number;
  private readonly cache = new Map<string, Buffer>();
  private readonly loading = new Map<string, Promise<Buffer>>();
  private queued: QueuedLoad[] = [];
  /** 1 for each block index loaded before (by piece or whole) in an earlier batch. */
  private readonly seen: Uint8Array;
  private readonly zero: Buffer;
  /** Blocks decoded from packs so far (whole or for a piece): what the cache saves is visible without timing it. */
  blocksLoaded = 0;
  /** Of those, the ones decoded for a piece and not kept. */
  blocksSliced = 0;
  /** Pack reads issued so far (each one ranged read of the store and one decode job). */
  packReads = 0;

  constructor(
    private readonly disk: DiskManifest,
    private readonly store: BlobStore,
    private readonly index: PackIndex,
    private readonly pool: BlockCodecPool,
    private readonly cacheBlocks = DEFAULT_CACHE_BLOCKS,
  ) {
    this.size = disk.size;
    this.zero = Buffer.alloc(BLOCK_SIZE);
    this.seen = new Uint8Array(disk.blocks.length);
  }

  /** Decoded blocks held in the cache now. */
  get cachedBlocks(): number {
    return this.cache.size;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const end = Math.min(this.size, offset + length);
    if (end <= offset) return Buffer.alloc(0);
    const first = Math.floor(offset / BLOCK_SIZE);
    const last = Math.floor((end - 1) / BLOCK_SIZE);
    if (first === last) {
      const start = first * BLOCK_SIZE;
      const piece = end - offset <= SLICE_READ_MAX && !this.seen[first] ? this.slice(first, offset - start, end - start) : undefined;
      if (piece) return piece;
      const block = await this.block(first);
      return block.subarray(offset - start, end - start);
    }
    const blocks = await Promise.all(Array.from({ length: last - first + 1 }, (_, i) => this.block(first + i)));
    const out = Buffer.allocUnsafe(end - offset);
    for (let i = 0; i < blocks.length; i++) {
      const blockStart = (first + i) * BLOCK_SIZE;
      const from = Math.max(offset, blockStart);
      const to = Math.min(end, blockStart + BLOCK_SIZE);
      blocks[i].copy(out, from - offset, from - blockStart, to - blockStart);
    }
    return out;
  }

  /** Bytes [start, end) of block i alone, unless the block is cached, being loaded or a hole (then undefined). */
  private slice(i: number, start: number, end: number): Promise<Buffer> | undefined {
    const hash = this.disk.blocks[i];
    if (hash === null || hash === undefined || this.cache.has(hash) || this.loading.has(hash)) return undefined;
    return this.queue({ index: i, hash, slice: [start, end] });
  }

  private block(i: number): Promise<Buffer> {
    const hash = this.disk.blocks[i];
    if (hash === null || hash === undefined) return Promise.resolve(this.zero);
    const hit = this.cache.get(hash);
    if (hit) {
      this.cache.delete(hash);
      this.cache.set(hash, hit);
      return Promise.resolve(hit);
    }
    let p = this.loading.get(hash);
    if (!p) {
      p = this.queue({ index: i, hash }).finally(() => this.loading.delete(hash));
      this.loading.set(hash, p);
    }
    return p;
  }

  /** Queues a load for the next batch; the batch is loaded once everything this turn asks for is queued. */
  private queue(load: Omit<QueuedLoad, 'resolve' | 'reject'>): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.queued.push({ ...load, resolve, reject });
      if (this.queued.length === 1) setImmediate(() => void this.loadBatch(this.queued.splice(0)));
    });
  }

  private async loadBatch(batch: QueuedLoad[]): Promise<void> {
    const byHash = new Map<string, QueuedLoad[]>();
    for (const q of batch) {
      // Pieces of one block asked for in one batch are one decode; a block asked for again later is kept whole.
      this.seen[q.index] = 1;
      const list = byHash.get(q.hash);
      if (list) list.push(q);
      else byHash.set(q.hash, [q]);
    }
    let reads: PackRead[];
    try {
      reads = planPackReads(await locateBlocks(this.index, byHash.keys()), BATCH_READ_BLOCKS);
    } catch (e) {
      for (const q of batch) q.reject(e);
      return;
    }
    this.blocksLoaded += byHash.size;
    await Promise.all(reads.map((read) => this.loadRead(read, byHash)));
  }

  /**
   * One pack read of a batch. If it fails with several blocks in it, each block is read again on its own, so that
   * only the reads of a corrupt or missing block fail, as they would had it been asked for alone.
   */
  private async loadRead(read: PackRead, byHash: Map<string, QueuedLoad[]>): Promise<void> {
    this.packReads++;
    // A block is decoded for its pieces only when nothing in the batch wants all of it.
    const slicesOf = (hash: string) => {
      const wanted = byHash.get(hash)!;
      return wanted.every((q) => q.slice) ? wanted.map((q) => [q.slice![0], q.slice![1] - q.slice![0]] as [number, number]) : undefined;
    };
    let data: Buffer[];
    try {
      data = await readPackRange(this.store, this.pool, read, { ownBlocks: true, slicesOf: (b) => slicesOf(b.hash) });
    } catch (e) {
      if (read.blocks.length === 1) for (const q of byHash.get(read.blocks[0].hash)!) q.reject(e);
      else await Promise.all(read.blocks.map((b) => this.loadRead({ packId: b.packId, offset: b.offset, length: b.length, blocks: [b] }, byHash)));
      return;
    }
    read.blocks.forEach((b, i) => {
      const wanted = byHash.get(b.hash)!;
      if (slicesOf(b.hash)) {
        this.blocksSliced++;
        let at = 0;
        for (const q of wanted) {
          const length = q.slice![1] - q.slice![0];
          q.resolve(data[i].subarray(at, at + length));
          at += length;
        }
        return;
      }
      this.cache.set(b.hash, data[i]);
      for (const q of wanted) q.resolve(q.slice ? data[i].subarray(q.slice[0], q.slice[1]) : data[i]);
    });
    while (this.cache.size > this.cacheBlocks) this.cache.delete(this.cache.keys().next().value!);
  }

  async allocatedExtents(): Promise<Extent[]> {
    const out: Extent[] = [];
    this.disk.blocks.forEach((h, i) => {
      if (h === null) return;
      const offset = i * BLOCK_SIZE;
      const length = Math.min(BLOCK_SIZE, this.size - offset);
      const last = out[out.length - 1];
      if (last && last.offset + last.length === offset) last.length += length;
      else out.push({ offset, length });
    });
    return out;
  }

  async close(): Promise<void> {
    this.cache.clear();
  }
}
