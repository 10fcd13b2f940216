import { corrupt } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import type { ManifestSummary, RestorePointManifest } from './repository.js';

/** Restore point manifests, one JSON object each under `manifests/<id>.json`; written last by a backup. */
export class ManifestStore {
  constructor(private readonly store: BlobStore) {}

  static keyOf(id: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(id)) throw corrupt(`invalid restore point id "${id}"`);
    return `manifests/${id}.json`;
  }

  async ids(): Promise<string[]> {
    const keys = await this.store.list('manifests/');
    return keys.flatMap((k) => {
      const m = /^manifests\/([^/]+)\.json$/.exec(k);
      return m ? [m[1]] : [];
    });
  }

  async read(id: string): Promise<RestorePointManifest | undefined> {
    const key = ManifestStore.keyOf(id);
    if (!(await this.store.exists(key))) return undefined;
    return parseManifest(await this.store.get(key), id);
  }

  /** Atomic and durable (the blob store's put: temp, fsync, rename, fsync folder). */
  async write(manifest: RestorePointManifest): Promise<void> {
    await this.store.put(ManifestStore.keyOf(manifest.id), Buffer.from(JSON.stringify(manifest)));
  }

  async delete(id: string): Promise<void> {
    await this.store.delete(ManifestStore.keyOf(id));
  }

  async summaries(): Promise<ManifestSummary[]> {
    const out: ManifestSummary[] = [];
    for (const id of await this.ids()) {
      const m = await this.read(id);
      if (!m) continue;
      out.push({
        id: m.id,
        restorePointId: m.restorePointId,
        jobId: m.jobId,
        vmId: m.vmId,
        vmName: m.vmName,
        createdAt: m.createdAt,
        pointType: m.pointType,
      });
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }
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
