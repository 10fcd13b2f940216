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

interface QueuedLoad {
  hash: string;
  resolve: (data: Buffer) => void;
  reject: (e: unknown) => void;
}

/**
 * A disk of a restore point as a block source, read straight from packs. Decompressed, verified blocks
 * sit in a small LRU cache (a Map in use order), so the ext4 reader's many 4 KiB reads inside one block
 * cost one pack read, one decompression and one hash check. The blocks missed in one turn of the event loop
 * are loaded as one batch: a listing asks for a folder's scattered directory blocks all at once, and the ones
 * that lie near each other in a pack come in one read and one decode job (restic's restorer, STYLE.md).
 */
export class RepositoryDiskSource implements BlockSource {
  readonly size: number;
  private readonly cache = new Map<string, Buffer>();
  private readonly loading = new Map<string, Promise<Buffer>>();
  private queued: QueuedLoad[] = [];
  private readonly zero: Buffer;
  /** Blocks fetched from packs so far (cache misses): what the cache saves is visible without timing it. */
  blocksLoaded = 0;
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
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const end = Math.min(this.size, offset + length);
    if (end <= offset) return Buffer.alloc(0);
    const first = Math.floor(offset / BLOCK_SIZE);
    const last = Math.floor((end - 1) / BLOCK_SIZE);
    if (first === last) {
      const block = await this.block(first);
      return block.subarray(offset - first * BLOCK_SIZE, end - first * BLOCK_SIZE);
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
      p = this.queue(hash).finally(() => this.loading.delete(hash));
      this.loading.set(hash, p);
    }
    return p;
  }

  /** Queues a block for the next batch; the batch is loaded once everything this turn asks for is queued. */
  private queue(hash: string): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.queued.push({ hash, resolve, reject });
      if (this.queued.length === 1) setImmediate(() => void this.loadBatch(this.queued.splice(0)));
    });
  }

  private async loadBatch(batch: QueuedLoad[]): Promise<void> {
    const byHash = new Map(batch.map((q) => [q.hash, q]));
    let reads: PackRead[];
    try {
      reads = planPackReads(await locateBlocks(this.index, byHash.keys()), BATCH_READ_BLOCKS);
    } catch (e) {
      for (const q of batch) q.reject(e);
      return;
    }
    this.blocksLoaded += batch.length;
    await Promise.all(reads.map((read) => this.loadRead(read, byHash)));
  }

  /**
   * One pack read of a batch. If it fails with several blocks in it, each block is read again on its own, so that
   * only the reads of a corrupt or missing block fail, as they would had it been asked for alone.
   */
  private async loadRead(read: PackRead, byHash: Map<string, QueuedLoad>): Promise<void> {
    this.packReads++;
    let data: Buffer[];
    try {
      data = await readPackRange(this.store, this.pool, read, true);
    } catch (e) {
      if (read.blocks.length === 1) byHash.get(read.blocks[0].hash)!.reject(e);
      else await Promise.all(read.blocks.map((b) => this.loadRead({ packId: b.packId, offset: b.offset, length: b.length, blocks: [b] }, byHash)));
      return;
    }
    read.blocks.forEach((b, i) => {
      this.cache.set(b.hash, data[i]);
      byHash.get(b.hash)!.resolve(data[i]);
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
