import { isOpenemError } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import { decodePackIndex, indexKey, packIdOfIndexKey, type PackEntry } from './pack-format.js';

export interface IndexedBlock extends PackEntry {
  packId: string;
}

export interface PackInfo {
  packId: string;
  packSize: number;
  entries: PackEntry[];
}

/**
 * The in-memory index: block hash → where it lives. Loaded from the `index/` objects of the packs the catalog
 * records (`packIds`: never a bucket listing where a state store keeps the catalog) on open, and refreshed (new
 * packs added, deleted packs dropped) before each backup and when a lookup misses, so another process's backups
 * and gc are seen.
 */
export class PackIndex {
  private readonly blocks = new Map<string, IndexedBlock>();
  private readonly packs = new Map<string, PackInfo>();
  /** Hashes also stored in packs other than the one `blocks` points at (two backups stored the same block). */
  private readonly duplicates = new Map<string, IndexedBlock[]>();

  constructor(
    private readonly store: BlobStore,
    /** The packs that exist (RepositoryCatalog.packIds); by default the pack ids the `index/` listing shows. */
    private readonly packIds: () => Promise<string[]> = () => listedIndexIds(store),
  ) {}

  get(hash: string): IndexedBlock | undefined {
    return this.blocks.get(hash);
  }

  has(hash: string): boolean {
    return this.blocks.has(hash);
  }

  pack(packId: string): PackInfo | undefined {
    return this.packs.get(packId);
  }

  /** Every pack holding `hash` (a block two backups stored holds two). */
  packsHolding(hash: string): string[] {
    const first = this.blocks.get(hash);
    if (!first) return [];
    return [first.packId, ...(this.duplicates.get(hash) ?? []).map((d) => d.packId)];
  }

  allPacks(): PackInfo[] {
    return [...this.packs.values()];
  }

  get blockCount(): number {
    return this.blocks.size;
  }

  /** Registers a pack whose data and index object are durable. */
  addPack(info: PackInfo): void {
    this.packs.set(info.packId, info);
    for (const e of info.entries) {
      const located = { ...e, packId: info.packId };
      if (!this.blocks.has(e.hash)) this.blocks.set(e.hash, located);
      else this.duplicates.set(e.hash, [...(this.duplicates.get(e.hash) ?? []), located]);
    }
  }

  removePack(packId: string): void {
    const info = this.packs.get(packId);
    if (!info) return;
    this.packs.delete(packId);
    for (const e of info.entries) {
      const others = this.duplicates.get(e.hash)?.filter((d) => d.packId !== packId);
      if (others && others.length === 0) this.duplicates.delete(e.hash);
      else if (others) this.duplicates.set(e.hash, others);
      if (this.blocks.get(e.hash)?.packId !== packId) continue;
      // A block stored in two packs stays reachable through the other one.
      const replacement = others?.shift();
      if (replacement) this.blocks.set(e.hash, replacement);
      else this.blocks.delete(e.hash);
      if (others && others.length === 0) this.duplicates.delete(e.hash);
    }
  }

  /** Loads index objects not seen yet and forgets packs whose index object is gone. */
  async refresh(): Promise<void> {
    const present = new Set<string>();
    const toLoad: string[] = [];
    for (const packId of await this.packIds()) {
      present.add(packId);
      if (!this.packs.has(packId)) toLoad.push(packId);
    }
    for (const packId of [...this.packs.keys()]) if (!present.has(packId)) this.removePack(packId);
    const loaded = await mapLimit(toLoad, 16, async (packId) => {
      let data: Buffer;
      try {
        data = await this.store.get(indexKey(packId));
      } catch (e) {
        // Collected by gc between the catalog's answer and this read: gone, not corrupt.
        if (isOpenemError(e) && e.code === 'NOT_FOUND') return undefined;
        throw e;
      }
      const { packSize, entries } = decodePackIndex(data, packId);
      return { packId, packSize, entries };
    });
    for (const info of loaded) if (info) this.addPack(info);
  }
}

/** The pack ids of the `index/` objects a listing shows. */
export async function listedIndexIds(store: BlobStore): Promise<string[]> {
  return (await store.list('index/')).flatMap((key) => {
    const packId = packIdOfIndexKey(key);
    return packId ? [packId] : [];
  });
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}
