import { isOpenemError } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import type { BlockCodecPool } from './block-codec-pool.js';
import { readPackRange } from './block-fetcher.js';
import type { ManifestStore } from './manifest-store.js';
import { decodePackIndex, decodePackTrailer, indexKey, packIdOfPackKey, packKey, type PackEntry } from './pack-format.js';
import type { PackInfo } from './pack-index.js';
import type { CheckResult } from './repository.js';
import type { RepositoryCatalog } from './repository-catalog.js';
import { readConfig } from './repository-config.js';

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Verifies the repository's structure (config, manifests, indexes against pack sizes, every referenced
 * block indexed) and, with `readData`, every stored block's hash. What should be there is the catalog's word
 * (current manifests, recorded packs), each object then looked at by its key; packs no manifest needs (left by an
 * interrupted backup, or waiting for gc) and objects a listing shows that the catalog never recorded are reported
 * in `unreferencedPacks`, not as problems.
 */
export async function checkRepository(
  store: BlobStore,
  manifests: ManifestStore,
  catalog: RepositoryCatalog,
  pool: BlockCodecPool,
  options: { readData?: boolean } = {},
): Promise<CheckResult> {
  const problems: string[] = [];
  try {
    if (!(await readConfig(store))) problems.push('config.json is missing');
  } catch (e) {
    problems.push(describe(e));
  }

  const recorded = await catalog.packIds();
  const packs = await loadIndexes(store, recorded, problems);
  const packSizes = new Map<string, number>();
  for (const id of recorded) {
    const size = (await store.stat(packKey(id)))?.size;
    if (size === undefined) {
      if (packs.has(id)) problems.push(`pack ${id}: indexed but its pack file is missing`);
    } else packSizes.set(id, size);
  }
  const where = new Map<string, string>();
  for (const p of packs.values()) for (const e of p.entries) where.set(e.hash, p.packId);

  const referencedPacks = new Set<string>();
  const ids = await manifests.ids();
  let manifestCount = 0;
  for (const id of ids) {
    try {
      const m = await manifests.readFromStore(id);
      if (!m) continue;
      manifestCount++;
      for (const d of m.disks) {
        d.blocks.forEach((h, i) => {
          if (h === null) return;
          const packId = where.get(h);
          if (packId) referencedPacks.add(packId);
          else problems.push(`manifest ${id}, disk ${d.name}, block ${i}: block ${h} is not in any pack index`);
        });
      }
    } catch (e) {
      problems.push(describe(e));
    }
  }

  const unreferencedPacks: string[] = [];
  for (const [id, size] of packSizes) {
    const info = packs.get(id);
    if (!info) unreferencedPacks.push(id);
    else if (size !== info.packSize) problems.push(`pack ${id}: file is ${size} bytes, its index says ${info.packSize}`);
    else if (!referencedPacks.has(id)) unreferencedPacks.push(id);
  }
  // Orphans: written by a process that died before recording them (only a listing finds those).
  const known = new Set(recorded);
  for (const key of await store.list('packs/')) {
    const id = packIdOfPackKey(key);
    if (id && !known.has(id)) {
      known.add(id);
      unreferencedPacks.push(id);
    }
  }

  let blocksChecked = 0;
  if (options.readData) {
    for (const info of packs.values()) {
      if (packSizes.get(info.packId) !== info.packSize) continue;
      blocksChecked += await checkPackData(store, pool, info, problems);
    }
  }
  return { ok: problems.length === 0, manifests: manifestCount, packs: packSizes.size + (known.size - recorded.length), blocksChecked, problems, unreferencedPacks };
}

async function loadIndexes(store: BlobStore, packIds: string[], problems: string[]): Promise<Map<string, PackInfo>> {
  const packs = new Map<string, PackInfo>();
  for (const packId of packIds) {
    try {
      const { packSize, entries } = decodePackIndex(await store.get(indexKey(packId)), packId);
      packs.set(packId, { packId, packSize, entries });
    } catch (e) {
      problems.push(describe(e));
    }
  }
  return packs;
}

/** Reads one pack whole, compares its trailer with its index, and verifies every block; returns blocks checked. */
async function checkPackData(store: BlobStore, pool: BlockCodecPool, info: PackInfo, problems: string[]): Promise<number> {
  let trailer: PackEntry[];
  try {
    trailer = decodePackTrailer(await store.get(packKey(info.packId)), info.packId);
  } catch (e) {
    problems.push(`pack ${info.packId} is corrupt: ${describe(e)}`);
    return 0;
  }
  if (trailer.length !== info.entries.length || trailer.some((t, i) => t.hash !== info.entries[i].hash || t.offset !== info.entries[i].offset)) {
    problems.push(`pack ${info.packId} is corrupt: its trailer does not match its index`);
  }
  let checked = 0;
  // Verify block by block so one bad block does not hide the others.
  for (const e of info.entries) {
    try {
      await readPackRange(store, pool, { packId: info.packId, offset: e.offset, length: e.length, blocks: [{ ...e, packId: info.packId }] });
      checked++;
    } catch (err) {
      if (!isOpenemError(err)) throw err;
      problems.push(describe(err));
    }
  }
  return checked;
}
