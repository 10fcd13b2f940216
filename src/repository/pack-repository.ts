import { BlockCodecPool } from './block-codec-pool.js';
import { fetchBlocks } from './block-fetcher.js';
import { verifyBlocks } from './block-verifier.js';
import type { BlobStore } from './blob-store.js';
import { RepositoryBackupWriter } from './backup-writer.js';
import { checkRepository } from './check.js';
import { collectGarbage } from './gc.js';
import { copyRepository, type CopyResult } from './copy-repository.js';
import { openBlobStore } from './stores/open-blob-store.js';
import { listedContents, ManifestStore } from './manifest-store.js';
import { listedIndexIds, PackIndex } from './pack-index.js';
import { ListingCatalog, type RepositoryCatalog } from './repository-catalog.js';
import { PackWriter } from './pack-writer.js';
import type { BlockSource } from '../disks/block-source.js';
import { conflict, isOpenemError, notFound, OpenemError } from '../errors.js';
import type {
  BackupWriter,
  BlockFetch,
  CheckResult,
  FetchOptions,
  HashedBlocks,
  ManifestSummary,
  Repository,
  RestorePointManifest,
} from './repository.js';
import { CONFIG_KEY, catalogKeyOf, type RepositoryConfig } from './repository-config.js';
import { RepositoryDiskSource } from './repository-disk-source.js';
import { hashSource } from './source-hasher.js';
import { ProcessLeases, type RepositoryLeases } from './repository-leases.js';

export interface PackRepositoryOptions {
  /** Codec worker threads (default: os.availableParallelism()). */
  workers?: number;
  /** zstd level for new blocks, 1-3 (default 1). */
  compressionLevel?: number;
  /** Decompressed blocks cached per opened disk (default 32 = 32 MiB). */
  cacheBlocks?: number;
  /** Pack size target in bytes (default 32 MiB; tests use smaller packs). */
  packSize?: number;
  /**
   * The exclusions between processes sharing the repository (a backup of a VM, gc): the state store's leases in
   * the server and the CLI. Without them only this process is excluded (`ProcessLeases`).
   */
  leases?: RepositoryLeases;
  /**
   * Where the repository records which manifests are current and which packs exist and are referenced, given the
   * repository's identity (`catalogKeyOf`): the state store's catalog in the server and the CLI. Without it the
   * blob store's listings are the record (`ListingCatalog`), correct only on a store that lists every object at once.
   */
  catalog?: (repositoryKey: string) => RepositoryCatalog;
}

/** The repository: blocks in packs, an in-memory index, manifests, on any blob store. */
export class PackRepository implements Repository {
  private readonly manifests: ManifestStore;
  private readonly leases: RepositoryLeases;
  private readonly catalog: RepositoryCatalog;
  private readonly pool: BlockCodecPool;
  private readonly activeBackups = new Set<RepositoryBackupWriter>();
  private closed = false;

  private constructor(
    private readonly store: BlobStore,
    private readonly index: PackIndex,
    catalog: RepositoryCatalog,
    readonly config: RepositoryConfig,
    private readonly options: PackRepositoryOptions,
  ) {
    this.catalog = catalog;
    this.manifests = new ManifestStore(store, catalog, (m) => packsOf(m, index));
    this.leases = options.leases ?? new ProcessLeases();
    this.pool = new BlockCodecPool(config.hash, options.workers);
  }

  /** Opens a repository whose config has been validated; loads the index. */
  static async load(store: BlobStore, config: RepositoryConfig, options: PackRepositoryOptions = {}): Promise<PackRepository> {
    const listed = (skipUnreadable: boolean) => async () => {
      const listedIndex = new PackIndex(store);
      await listedIndex.refresh();
      return listedContents(store, () => listedIndexIds(store), (m) => packsOf(m, listedIndex), skipUnreadable);
    };
    let catalog: RepositoryCatalog;
    if (options.catalog) {
      catalog = options.catalog(catalogKeyOf(config, store));
      // A repository this catalog has not known yet (an older openem's, a copied one): recorded from its listings once.
      await catalog.adopt(listed(true));
    } else {
      catalog = new ListingCatalog(store, listed(false));
    }
    const index = new PackIndex(store, () => catalog.packIds());
    await index.refresh();
    return new PackRepository(store, index, catalog, config, options);
  }

  get location(): string {
    return this.store.location;
  }

  async beginBackup(vmId: string): Promise<BackupWriter> {
    this.assertOpen();
    const lease = await this.leases.backup(vmId);
    try {
      // See packs other processes wrote or deleted since we loaded the index: dedup must not rely on gone blocks.
      await this.index.refresh();
    } catch (e) {
      await lease.release();
      throw e;
    }
    const writer: RepositoryBackupWriter = new RepositoryBackupWriter({
      location: this.location,
      pool: this.pool,
      packs: new PackWriter(this.store, this.index, this.catalog, this.options.packSize),
      index: this.index,
      manifests: this.manifests,
      lease,
      compressionLevel: this.options.compressionLevel ?? 1,
      onFinished: () => this.activeBackups.delete(writer),
    });
    this.activeBackups.add(writer);
    return writer;
  }

  listManifests(): Promise<ManifestSummary[]> {
    return this.manifests.summaries();
  }

  readManifest(id: string): Promise<RestorePointManifest | undefined> {
    return this.manifests.read(id);
  }

  async openDisk(manifest: RestorePointManifest, diskName: string): Promise<BlockSource> {
    this.assertOpen();
    const disk = manifest.disks.find((d) => d.name === diskName);
    if (!disk) throw notFound(`restore point ${manifest.id} has no disk ${diskName}`);
    return new RepositoryDiskSource(disk, this.store, this.index, this.pool, this.options.cacheBlocks);
  }

  fetchBlocks(blocks: BlockFetch[], write: (index: number, data: Buffer) => Promise<void>, options?: FetchOptions): Promise<void> {
    this.assertOpen();
    return fetchBlocks(this.store, this.index, this.pool, blocks, write, options);
  }

  verifyBlocks(blocks: BlockFetch[], options?: FetchOptions): Promise<void> {
    this.assertOpen();
    return verifyBlocks(this.store, this.index, this.pool, blocks, options);
  }

  async hashBlocks(buffers: Buffer[]): Promise<string[]> {
    this.assertOpen();
    const total = buffers.reduce((n, b) => n + b.length, 0);
    const shared = new SharedArrayBuffer(total);
    const view = Buffer.from(shared);
    const ranges: [number, number][] = [];
    let at = 0;
    for (const b of buffers) {
      b.copy(view, at);
      ranges.push([at, b.length]);
      at += b.length;
    }
    // Split across the pool so every core hashes.
    const per = Math.ceil(ranges.length / this.pool.size);
    const parts = await Promise.all(
      Array.from({ length: this.pool.size }, (_, i) => ranges.slice(i * per, (i + 1) * per))
        .filter((r) => r.length > 0)
        .map((r) => this.pool.hash(shared, r, false)),
    );
    return parts.flat() as string[];
  }

  hashSource(source: BlockSource, onHashed: (run: HashedBlocks) => void, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.assertOpen();
    return hashSource(this.pool, source, onHashed, options.signal);
  }

  async blockSizes(hashes: Iterable<string>): Promise<Map<string, { stored: number; raw: number }>> {
    this.assertOpen();
    const wanted = [...new Set(hashes)];
    if (wanted.some((h) => !this.index.has(h))) await this.index.refresh();
    const out = new Map<string, { stored: number; raw: number }>();
    for (const h of wanted) {
      const b = this.index.get(h);
      if (b) out.set(h, { stored: b.length, raw: b.rawLength });
    }
    return out;
  }

  check(options?: { readData?: boolean }): Promise<CheckResult> {
    this.assertOpen();
    return checkRepository(this.store, this.manifests, this.catalog, this.pool, options);
  }

  async forget(manifestIds: string[]): Promise<void> {
    this.assertOpen();
    for (const id of manifestIds) await this.manifests.delete(id);
  }

  async gc(): Promise<{ packsDeleted: number; bytesFreed: number }> {
    this.assertOpen();
    const lease = await this.leases.gc();
    try {
      if (this.activeBackups.size > 0) throw conflict(`cannot collect garbage of ${this.location} while backups run in this process`);
      return await collectGarbage(this.store, this.catalog, this.index);
    } finally {
      await lease.release();
    }
  }

  async copyTo(location: string): Promise<CopyResult> {
    this.assertOpen();
    const target = openBlobStore(location);
    const lease = await this.leases.gc();
    try {
      if (this.activeBackups.size > 0) throw conflict(`cannot copy ${this.location} while backups run in this process`);
      return await copyRepository(this.store, target);
    } finally {
      await lease.release();
      target.destroy?.();
    }
  }

  async probe(timeoutMs: number): Promise<void> {
    this.assertOpen();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new OpenemError('UNAVAILABLE', `${this.location} did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const there = await Promise.race([this.store.exists(CONFIG_KEY), timeout]);
      if (!there) throw new OpenemError('UNAVAILABLE', `${this.location} no longer holds the repository's ${CONFIG_KEY}`);
    } catch (e) {
      if (isOpenemError(e) && e.code === 'UNAVAILABLE') throw e;
      throw new OpenemError('UNAVAILABLE', `${this.location} does not answer: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.activeBackups]) await w.abort();
    await this.pool.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new OpenemError('UNAVAILABLE', `repository ${this.location} is closed`);
  }
}

/** Every pack holding one of the manifest's blocks: the packs it references. */
function packsOf(manifest: RestorePointManifest, index: PackIndex): string[] {
  const out = new Set<string>();
  for (const d of manifest.disks) for (const h of d.blocks) if (h !== null) for (const p of index.packsHolding(h)) out.add(p);
  return [...out];
}
