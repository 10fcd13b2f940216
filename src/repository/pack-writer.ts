import { randomBytes } from 'node:crypto';
import type { BlobStore } from './blob-store.js';
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
const SEALS_IN_FLIGHT = 2;

/**
 * Appends encoded blocks to pack files of about 32 MiB. A full pack is written whole (one atomic `put`),
 * then its index object, and only then are its blocks entered into the shared index; up to two packs
 * are written while the next one fills. Blocks are only visible through a manifest, which the backup
 * writes after `flush`.
 */
export class PackWriter {
  private parts: Buffer[] = [PACK_MAGIC];
  private entries: PackEntry[] = [];
  private dataBytes = 0;
  /** Hashes added in this session and not yet durable, so a block repeated within a backup is stored once. */
  private readonly pendingHashes = new Set<string>();
  private readonly sealing = new Set<Promise<void>>();
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

  /** Adds a claimed block; waits when too many packs are being written (back-pressure on the reader). */
  async add(hash: string, data: Buffer, rawLength: number, compression: Compression): Promise<void> {
    this.throwIfFailed();
    this.entries.push({ hash, offset: PACK_MAGIC.length + this.dataBytes, length: data.length, rawLength, compression });
    this.parts.push(data);
    this.dataBytes += data.length;
    this.storedBytes += data.length;
    if (PACK_MAGIC.length + this.dataBytes >= this.targetSize) await this.seal();
  }

  private async seal(): Promise<void> {
    if (this.entries.length === 0) return;
    const entries = this.entries;
    const parts = this.parts;
    const size = packSizeOf(entries.length, this.dataBytes);
    this.entries = [];
    this.parts = [PACK_MAGIC];
    this.dataBytes = 0;
    parts.push(encodePackTrailer(entries));
    const packId = randomBytes(16).toString('hex');
    const p = this.writePack(packId, parts, entries, size).then(
      () => undefined,
      (e) => {
        this.failure ??= e;
      },
    );
    this.sealing.add(p);
    void p.finally(() => this.sealing.delete(p));
    while (this.sealing.size >= SEALS_IN_FLIGHT) await Promise.race(this.sealing);
    this.throwIfFailed();
  }

  private async writePack(packId: string, parts: Buffer[], entries: PackEntry[], size: number): Promise<void> {
    if (this.failure) return;
    await this.store.put(packKey(packId), parts);
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
    await this.seal();
    await Promise.all(this.sealing);
    this.throwIfFailed();
  }

  /** Waits for writes in flight and drops the rest; written packs stay as orphans for gc. */
  async discard(): Promise<void> {
    this.entries = [];
    this.parts = [PACK_MAGIC];
    this.dataBytes = 0;
    await Promise.all(this.sealing);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
