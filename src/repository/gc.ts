import type { BlobStore } from './blob-store.js';
import { indexKey, packIdOfIndexKey, packIdOfPackKey, packKey } from './pack-format.js';
import type { PackIndex } from './pack-index.js';
import type { RepositoryCatalog } from './repository-catalog.js';

/**
 * Deletes the packs the catalog records and no current manifest references, then the orphans: pack and index
 * objects a listing shows and the catalog never recorded (left by a process that died between writing
 * and recording them). What is live is the catalog's word, never a listing's: a listing that misses fresh objects
 * (an eventually consistent store) makes gc miss orphans, never delete a referenced pack. A pack with at least one
 * referenced block is kept whole (no repacking yet). A manifest object the catalog does not name (a forget that
 * stopped half way, a manifest that never parsed) is left alone: small, and never current.
 * The caller must hold the repository's gc exclusion (no backup running), or a running backup's packs, recorded
 * but not yet referenced by its manifest, would look unreferenced.
 */
export async function collectGarbage(store: BlobStore, catalog: RepositoryCatalog, index: PackIndex): Promise<{ packsDeleted: number; bytesFreed: number }> {
  await index.refresh();
  const referenced = await catalog.referencedPackIds();
  const recorded = new Set(await catalog.packIds());
  let packsDeleted = 0;
  let bytesFreed = 0;
  const remove = async (packId: string) => {
    bytesFreed += (await store.stat(packKey(packId)))?.size ?? 0;
    // Catalog first, then index, then data: a crash in between leaves an orphan, never an index without its pack.
    await catalog.removePack(packId);
    await store.delete(indexKey(packId));
    await store.delete(packKey(packId));
    index.removePack(packId);
    packsDeleted++;
  };
  for (const packId of recorded) if (!referenced.has(packId)) await remove(packId);
  const orphans = new Set<string>();
  for (const key of await store.list('packs/')) {
    const packId = packIdOfPackKey(key);
    if (packId && !recorded.has(packId)) orphans.add(packId);
  }
  for (const key of await store.list('index/')) {
    const packId = packIdOfIndexKey(key);
    if (packId && !recorded.has(packId)) orphans.add(packId);
  }
  for (const packId of orphans) await remove(packId);
  return { packsDeleted, bytesFreed };
}
