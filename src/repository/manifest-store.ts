import { corrupt, isOpenemError } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import { ParsedManifestCache } from './parsed-manifest-cache.js';
import type { CatalogContents, RepositoryCatalog } from './repository-catalog.js';
import type { ManifestSummary, RestorePointManifest } from './repository.js';

/**
 * Restore point manifests, one JSON object each under `manifests/<id>.json`; written last by a backup. Which of
 * them are current is the catalog's word (`RepositoryCatalog`): an object is written, then recorded; forgotten,
 * then deleted, so a crash in between leaves an object nothing names, never a name without its object. The latest
 * read or written are kept parsed (parsed-manifest-cache.ts): a QuickRollback from CBT reads the newest points'
 * manifests, most often those this process has just written or read.
 */
export class ManifestStore {
  private readonly parsed = new ParsedManifestCache();

  constructor(
    private readonly store: BlobStore,
    private readonly catalog: RepositoryCatalog,
    /** Every pack holding one of the manifest's blocks, recorded with it as the packs it references. */
    private readonly packsOf: (manifest: RestorePointManifest) => string[],
  ) {}

  static keyOf(id: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(id)) throw corrupt(`invalid restore point id "${id}"`);
    return `manifests/${id}.json`;
  }

  static idOfKey(key: string): string | undefined {
    return /^manifests\/([^/]+)\.json$/.exec(key)?.[1];
  }

  /** Ids of the current manifests. */
  async ids(): Promise<string[]> {
    return this.catalog.manifestIds();
  }

  async read(id: string): Promise<RestorePointManifest | undefined> {
    return this.readCurrent(id, true);
  }

  /** As `read`, always from the object itself (a check proves the stored manifest, not what this process kept). */
  readFromStore(id: string): Promise<RestorePointManifest | undefined> {
    return this.readCurrent(id, false);
  }

  private async readCurrent(id: string, keptWillDo: boolean): Promise<RestorePointManifest | undefined> {
    const key = ManifestStore.keyOf(id);
    // Asked every time, kept or not: another node may have forgotten the manifest since.
    if (!(await this.catalog.hasManifest(id))) {
      this.parsed.delete(id);
      return undefined;
    }
    const kept = keptWillDo ? this.parsed.get(id) : undefined;
    if (kept) return kept;
    const m = parseManifest(await this.store.get(key), id);
    this.parsed.set(m);
    return m;
  }

  /** Atomic and durable (the blob store's put), then recorded as current with the packs it references. */
  async write(manifest: RestorePointManifest): Promise<void> {
    const json = Buffer.from(JSON.stringify(manifest));
    // Parsed before it is stored: a manifest that would not read back is refused before it becomes current, and the
    // kept copy (as a read would give it; the writer keeps its own object) is made before anything can fail after.
    const kept = parseManifest(json, manifest.id);
    await this.store.put(ManifestStore.keyOf(manifest.id), json);
    await this.catalog.addManifest(summaryOf(manifest), this.packsOf(manifest));
    this.parsed.set(kept);
  }

  async delete(id: string): Promise<void> {
    const key = ManifestStore.keyOf(id);
    this.parsed.delete(id);
    await this.catalog.removeManifest(id);
    await this.store.delete(key);
  }

  summaries(): Promise<ManifestSummary[]> {
    return this.catalog.manifests();
  }
}

export function summaryOf(m: RestorePointManifest): ManifestSummary {
  return { id: m.id, restorePointId: m.restorePointId, jobId: m.jobId, vmId: m.vmId, vmName: m.vmName, createdAt: m.createdAt, pointType: m.pointType };
}

/**
 * What the blob store itself holds, by listing: every `manifests/` object read (with its packs by `packsOf`) and
 * every `index/` object's pack. The answer of a catalog without a state store, and what a state catalog adopts once.
 */
export async function listedContents(
  store: BlobStore,
  packIds: () => Promise<string[]>,
  packsOf: (m: RestorePointManifest) => string[],
  /** Leave out manifests that do not parse (adopting: such a manifest never restored anything) instead of failing. */
  skipUnreadable = false,
): Promise<CatalogContents> {
  const ids = (await store.list('manifests/')).flatMap((k) => {
    const id = ManifestStore.idOfKey(k);
    return id ? [id] : [];
  });
  const manifests: CatalogContents['manifests'] = [];
  for (const id of ids) {
    let buf: Buffer;
    try {
      buf = await store.get(ManifestStore.keyOf(id));
    } catch (e) {
      if (isOpenemError(e) && e.code === 'NOT_FOUND') continue; // forgotten since listed
      throw e;
    }
    let m: RestorePointManifest;
    try {
      m = parseManifest(buf, id);
    } catch (e) {
      if (skipUnreadable) continue;
      throw e;
    }
    manifests.push({ summary: summaryOf(m), packIds: packsOf(m) });
  }
  return { manifests, packIds: await packIds() };
}

const HASH_RE = /^[0-9a-f]{64}$/;

export function parseManifest(buf: Buffer, id: string): RestorePointManifest {
  let m: RestorePointManifest;
  try {
    m = JSON.parse(buf.toString('utf8')) as RestorePointManifest;
  } catch (e) {
    throw corrupt(`manifest ${id}: not valid JSON (${(e as Error).message})`);
  }
  if (m === null || typeof m !== 'object' || m.formatVersion !== 1 || m.id !== id || !Array.isArray(m.disks)) {
    throw corrupt(`manifest ${id}: missing or wrong formatVersion, id or disks`);
  }
  for (const d of m.disks) {
    if (typeof d.name !== 'string' || typeof d.size !== 'number' || !Array.isArray(d.blocks)) throw corrupt(`manifest ${id}: disk entry malformed`);
    if (d.blocks.length !== Math.ceil(d.size / (1024 * 1024))) throw corrupt(`manifest ${id}: disk ${d.name} has ${d.blocks.length} blocks for ${d.size} bytes`);
    for (const h of d.blocks) if (h !== null && (typeof h !== 'string' || !HASH_RE.test(h))) throw corrupt(`manifest ${id}: disk ${d.name} has a malformed block hash`);
  }
  return m;
}
