import type { RestorePointManifest } from './repository.js';

/** Block entries of the manifests kept parsed, over all of them (a 4 GiB disk has 4096): about 10-12 MiB of 64-character hex strings at the bound. */
export const CACHED_BLOCK_ENTRIES = 128 * 1024;

/**
 * Restore point manifests kept parsed, the most recently used first to stay, bounded by their block entries. A
 * manifest object never changes once written, so a kept one is the object's content for as long as the object is
 * current; whether it still is, is the catalog's word, asked on every read (`ManifestStore.read`), so a manifest
 * another node forgot is not served from here. Each kept manifest is frozen: every reader shares it.
 */
export class ParsedManifestCache {
  private readonly kept = new Map<string, RestorePointManifest>();
  private entries = 0;

  constructor(private readonly maxEntries = CACHED_BLOCK_ENTRIES) {}

  get(id: string): RestorePointManifest | undefined {
    const m = this.kept.get(id);
    if (m) {
      // Map order is the eviction order: a read moves the manifest to the end.
      this.kept.delete(id);
      this.kept.set(id, m);
    }
    return m;
  }

  /** Keeps `m` (frozen in place) unless it alone is over the bound; the least recently used go to make room. */
  set(m: RestorePointManifest): void {
    this.delete(m.id);
    const size = entriesOf(m);
    if (size > this.maxEntries) return;
    deepFreeze(m);
    this.kept.set(m.id, m);
    this.entries += size;
    for (const [id] of this.kept) {
      if (this.entries <= this.maxEntries) break;
      this.delete(id);
    }
  }

  delete(id: string): void {
    const m = this.kept.get(id);
    if (!m) return;
    this.kept.delete(id);
    this.entries -= entriesOf(m);
  }

  /** Ids kept, least recently used first. */
  ids(): string[] {
    return [...this.kept.keys()];
  }
}

/** Its block entries, and one for the manifest itself: manifests without blocks are bounded too. */
function entriesOf(m: RestorePointManifest): number {
  return m.disks.reduce((n, d) => n + d.blocks.length, 1);
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Array.isArray(value) ? value : Object.values(value)) deepFreeze(v);
}
