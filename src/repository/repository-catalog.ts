import type { BlobStore } from './blob-store.js';
import { listedIndexIds } from './pack-index.js';
import type { ManifestSummary } from './repository.js';

/** What a repository held before a catalog knew it: its manifests (with the packs each needs) and its packs. */
export interface CatalogContents {
  manifests: { summary: ManifestSummary; packIds: string[] }[];
  packIds: string[];
}

/**
 * Which manifests are current and which packs exist and are referenced: the repository's truth about what is live
 * (ARCHITECTURE.md, "Storage"). The server and the CLI keep it in the state store (`tasks/repository-catalog.ts`),
 * so gc, forget, check and the index never decide from a bucket listing, which an S3-compatible store may give
 * without the objects written a moment ago; only orphans (objects written but never recorded, by a process that
 * died in between) are found by listing, and those are never live. Without a state store (repository tests,
 * benchmarks) `ListingCatalog` derives the same answers from the blob store itself.
 */
export interface RepositoryCatalog {
  /**
   * Records, once per repository, what the blob store held before this catalog kept it (a repository of an older
   * openem, or one copied in by objects); later calls do nothing.
   */
  adopt(contents: () => Promise<CatalogContents>): Promise<void>;
  /** Current manifests, oldest first. */
  manifests(): Promise<ManifestSummary[]>;
  /** Ids of the current manifests (without reading them). */
  manifestIds(): Promise<string[]>;
  hasManifest(id: string): Promise<boolean>;
  /** Records a manifest whose object is durable, with every pack holding one of its blocks: from now on it is current. */
  addManifest(summary: ManifestSummary, packIds: string[]): Promise<void>;
  /** Forgets a manifest (before its object is deleted): its packs are no longer referenced by it. */
  removeManifest(id: string): Promise<void>;
  /** Records a pack whose data and index objects are durable. */
  addPack(packId: string): Promise<void>;
  /** Packs recorded and not removed. */
  packIds(): Promise<string[]>;
  /** Recorded packs some current manifest references. */
  referencedPackIds(): Promise<Set<string>>;
  /** Forgets a pack (before gc deletes its objects). */
  removePack(packId: string): Promise<void>;
}

/** The manifest and pack answers read from the blob store itself: correct only where a listing shows every object. */
export class ListingCatalog implements RepositoryCatalog {
  constructor(
    private readonly store: BlobStore,
    /** Reads the blob store's whole contents (`listedContents`). */
    private readonly contents: () => Promise<CatalogContents>,
  ) {}

  async adopt(): Promise<void> {}

  async manifests(): Promise<ManifestSummary[]> {
    return (await this.contents()).manifests.map((m) => m.summary).sort(byAge);
  }

  async manifestIds(): Promise<string[]> {
    return (await this.store.list('manifests/')).flatMap((k) => {
      const m = /^manifests\/([^/]+)\.json$/.exec(k);
      return m ? [m[1]] : [];
    });
  }

  async hasManifest(id: string): Promise<boolean> {
    return this.store.exists(`manifests/${id}.json`);
  }

  async addManifest(): Promise<void> {}
  async removeManifest(): Promise<void> {}
  async addPack(): Promise<void> {}
  async removePack(): Promise<void> {}

  packIds(): Promise<string[]> {
    return listedIndexIds(this.store);
  }

  async referencedPackIds(): Promise<Set<string>> {
    return new Set((await this.contents()).manifests.flatMap((m) => m.packIds));
  }
}

/**
 * Oldest first, by creation time then id, compared code unit by code unit (as SQLite's BINARY collation does): ISO
 * timestamps sort by time so, and no locale's collation is loaded (its first use costs milliseconds).
 */
export function byAge(a: Pick<ManifestSummary, 'createdAt' | 'id'>, b: Pick<ManifestSummary, 'createdAt' | 'id'>): number {
  return ordinal(a.createdAt, b.createdAt) || ordinal(a.id, b.id);
}

function ordinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
