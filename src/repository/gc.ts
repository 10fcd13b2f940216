import type { BlobStore } from './blob-store.js';
import type { ManifestStore } from './manifest-store.js';
import { indexKey, packIdOfPackKey, packKey } from './pack-format.js';
import type { PackIndex } from './pack-index.js';

/**
 * Deletes packs no remaining manifest references, and packs without an index (left by an interrupted
 * backup). A pack with at least one referenced block is kept whole (no repacking yet): the space of
 * its dead blocks comes back once all of them are unreferenced.
 * The caller must hold the repository's gc exclusion (no backup running), or live packs of a running
 * backup would look unreferenced.
 */
export async function collectGarbage(store: BlobStore, manifests: ManifestStore, index: PackIndex): Promise<{ packsDeleted: number; bytesFreed: number }> {
  await index.refresh();
  const referenced = new Set<string>();
  for (const id of await manifests.ids()) {
    const m = await manifests.read(id);
    for (const d of m?.disks ?? []) for (const h of d.blocks) if (h !== null) referenced.add(h);
  }
  let packsDeleted = 0;
  let bytesFreed = 0;
  for (const key of await store.list('packs/')) {
    const packId = packIdOfPackKey(key);
    if (!packId) continue;
    const info = index.pack(packId);
    if (info && info.entries.some((e) => referenced.has(e.hash))) continue;
    bytesFreed += (await store.stat(key))?.size ?? 0;
    // Index first: a crash in between leaves an unindexed pack (an orphan), never an index without its pack.
    await store.delete(indexKey(packId));
    await store.delete(packKey(packId));
    index.removePack(packId);
    packsDeleted++;
  }
  return { packsDeleted, bytesFreed };
}
