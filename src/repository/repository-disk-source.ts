import { BLOCK_SIZE, type BlockSource, type Extent } from '../disks/block-source.js';
import type { BlobStore } from './blob-store.js';
import type { BlockCodecPool } from './block-codec-pool.js';
import { locateBlocks, readPackRange } from './block-fetcher.js';
import type { PackIndex } from './pack-index.js';
import type { DiskManifest } from './repository.js';

const DEFAULT_CACHE_BLOCKS = 32;

/**
 * A disk of a restore point as a block source, read straight from packs. Decompressed, verified blocks
 * sit in a small LRU cache (a Map in use order), so the ext4 reader's many 4 KiB reads inside one block
 * cost one pack read, one decompression and one hash check.
 */
export class RepositoryDiskSource implements BlockSource {
  readonly size: number;
  private readonly cache = new Map<string, Buffer>();
  private readonly loading = new Map<string, Promise<Buffer>>();
  private readonly zero: Buffer;
  /** Blocks fetched from packs so far (cache misses): what the cache saves is visible without timing it. */
  blocksLoaded = 0;

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

  private async block(i: number): Promise<Buffer> {
    const hash = this.disk.blocks[i];
    if (hash === null || hash === undefined) return this.zero;
    const hit = this.cache.get(hash);
    if (hit) {
      this.cache.delete(hash);
      this.cache.set(hash, hit);
      return hit;
    }
    let p = this.loading.get(hash);
    if (!p) {
      p = this.load(hash).finally(() => this.loading.delete(hash));
      this.loading.set(hash, p);
    }
    return p;
  }

  private async load(hash: string): Promise<Buffer> {
    this.blocksLoaded++;
    const [located] = await locateBlocks(this.index, [hash]);
    const [data] = await readPackRange(this.store, this.pool, {
      packId: located.packId,
      offset: located.offset,
      length: located.length,
      blocks: [located],
    });
    this.cache.set(hash, data);
    while (this.cache.size > this.cacheBlocks) this.cache.delete(this.cache.keys().next().value!);
    return data;
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
