import { randomBytes } from 'node:crypto';
import type { BlobStore } from './blob-store.js';
import { alignedSharedMemory } from '../disks/aligned-memory.js';
import type { PackIndex } from './pack-index.js';
import type { RepositoryCatalog } from './repository-catalog.js';
import {
  encodePackIndex,
  encodePackTrailer,
  indexKey,
  PACK_MAGIC,
  packKey,
  packSizeOf,
  type Compression,
  type PackEntry,
} from './pack-format.js';

export const PACK_TARGET_SIZE = 32 * 1024 * 1024;
/** Pack buffers at most: the one filling and the one being written (a full one waits for a buffer to free). */
const PACK_BUFFERS = 2;
/** The largest block a pack buffer must take past its target size (BLOCK_SIZE, stored raw). */
const LARGEST_BLOB = 1024 * 1024;

/**
 * Appends encoded blocks to pack files of about 32 MiB. A full pack is written whole (one atomic `put`),
 * then its index object, and only then are its blocks entered into the shared index; packs are written one
 * at a time while the next one fills. Blocks are only visible through a manifest, which the backup writes
 * after `flush`. Blocks are copied into a pack buffer (the caller may reuse its bytes once `add` returns),
 * and the buffers are reused from pack to pack: a backup holds two pack buffers whatever its size. They are page-aligned
 * memory, which the local store writes past the page cache.
 */
export class PackWriter {
  private buffer: Buffer | undefined;
  private used = PACK_MAGIC.length;
  private entries: PackEntry[] = [];
  /** Pack buffers the store is done with, for the next packs. */
  private readonly spare: Buffer[] = [];
  /** Hashes added in this session and not yet durable, so a block repeated within a backup is stored once. */
  private readonly pendingHashes = new Set<string>();
  /** Sealed packs whose data is not written yet; each settles once its buffer is free (data durable, or failed). */
  private readonly sealing = new Set<Promise<void>>();
  /** Written packs whose index object and catalog entry are not yet done. */
  private readonly indexing = new Set<Promise<void>>();
  /** The last sealed pack's data write: the next one starts after it. */
  private lastData: Promise<void> = Promise.resolve();
  private failure: unknown;
  private storedBytes = 0;

  constructor(
    private readonly store: BlobStore,
    private readonly index: PackIndex,
    private readonly catalog: RepositoryCatalog,
    private readonly targetSize = PACK_TARGET_SIZE,
  ) {}

  /** True when the block is already stored or queued for storing. */
  knows(hash: string): boolean {
    return this.index.has(hash) || this.pendingHashes.has(hash);
  }

  /** Bytes of encoded data handed to packs so far. */
  get bytesStored(): number {
    return this.storedBytes;
  }

  /** True (and the hash reserved for this session) when the block still has to be stored. */
  claim(hash: string): boolean {
    if (this.knows(hash)) return false;
    this.pendingHashes.add(hash);
    return true;
  }

  /**
   * Adds a claimed block, copied into the filling pack; waits when no pack buffer is free (back-pressure on the
   * reader). The caller's bytes must stay as they are until this resolves.
   */
  async add(hash: string, data: Buffer, rawLength: number, compression: Compression): Promise<void> {
    this.throwIfFailed();
    while (!this.buffer || this.used + data.length > this.buffer.length) {
      if (this.buffer && this.entries.length > 0) this.seal();
      else if (this.buffer) this.dropBuffer();
      else if (this.sealing.size >= PACK_BUFFERS - 1) {
        await Promise.race(this.sealing);
        this.throwIfFailed();
      } else this.buffer = this.takeBuffer(PACK_MAGIC.length + data.length);
    }
    data.copy(this.buffer, this.used);
    this.entries.push({ hash, offset: this.used, length: data.length, rawLength, compression });
    this.used += data.length;
    this.storedBytes += data.length;
    if (this.used >= this.targetSize) this.seal();
  }

  /** A spare pack buffer of at least `bytes` (and room for a target-size pack), or a new one; the magic written. */
  private takeBuffer(bytes: number): Buffer {
    const size = Math.max(this.targetSize + LARGEST_BLOB, bytes);
    let buffer = this.spare.pop();
    if (!buffer || buffer.length < size) buffer = Buffer.from(alignedSharedMemory(size));
    PACK_MAGIC.copy(buffer, 0);
    this.used = PACK_MAGIC.length;
    return buffer;
  }

  /** An empty filling buffer too small for the next blob goes back to the spares. */
  private dropBuffer(): void {
    if (this.buffer) this.spare.push(this.buffer);
    this.buffer = undefined;
    this.used = PACK_MAGIC.length;
  }

  /**
   * Hands the filling pack to the writer: its data is written once the packs sealed before it have theirs (one pack
   * write at a time), and its buffer is free for a later pack as soon as the store has its bytes; its index object and
   * catalog entry follow while the next pack's data is written.
   */
  private seal(): void {
    if (this.entries.length === 0 || !this.buffer) return;
    const entries = this.entries;
    const buffer = this.buffer;
    const dataBytes = this.used - PACK_MAGIC.length;
    this.entries = [];
    this.buffer = undefined;
    this.used = PACK_MAGIC.length;
    const packId = randomBytes(16).toString('hex');
    const parts = [buffer.subarray(0, PACK_MAGIC.length + dataBytes), encodePackTrailer(entries)];
    const written = this.lastData.then(async () => {
      if (this.failure) return false;
      await this.store.put(packKey(packId), parts);
      return true;
    });
    this.lastData = written.then(
      () => undefined,
      () => undefined,
    );
    const freed: Promise<void> = written
      .then(
        () => undefined,
        (e) => {
          this.failure ??= e;
        },
      )
      .finally(() => {
        this.sealing.delete(freed);
        // The store is done with the pack's bytes (written or failed): its buffer holds a later pack.
        this.spare.push(buffer);
      });
    this.sealing.add(freed);
    const indexed: Promise<void> = written
      .then((ok) => (ok ? this.indexPack(packId, packSizeOf(entries.length, dataBytes), entries) : undefined))
      .catch((e) => {
        this.failure ??= e;
      })
      .finally(() => this.indexing.delete(indexed));
    this.indexing.add(indexed);
  }

  /** After the pack's data is durable: its index object, then the catalog and the shared index. */
  private async indexPack(packId: string, size: number, entries: PackEntry[]): Promise<void> {
    // Index after data: an index object never points at a pack that may be missing.
    await this.store.put(indexKey(packId), encodePackIndex(size, entries));
    // Recorded once both objects are durable: every process's index and gc now know it (a listing may not yet).
    await this.catalog.addPack(packId);
    this.index.addPack({ packId, packSize: size, entries });
    for (const e of entries) this.pendingHashes.delete(e.hash);
  }

  /** Writes the partly filled pack and waits until every pack of this session is durable and indexed. */
  async flush(): Promise<void> {
    this.throwIfFailed();
    this.seal();
    await Promise.all(this.sealing);
    await Promise.all(this.indexing);
    this.throwIfFailed();
  }

  /** Waits for writes in flight and drops the rest; written packs stay as orphans for gc. */
  async discard(): Promise<void> {
    this.entries = [];
    this.buffer = undefined;
    this.used = PACK_MAGIC.length;
    await Promise.all(this.sealing);
    await Promise.all(this.indexing);
    this.spare.length = 0;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
