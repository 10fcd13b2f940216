import { randomUUID } from 'node:crypto';
import { conflict } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import { CONFIG_KEY, readConfig, writeConfig } from './repository-config.js';

export interface CopyResult {
  objects: number;
  bytes: number;
  /** Objects already in the target with the same size (an interrupted copy run again). */
  skipped: number;
}

/**
 * Copies every object of a repository to another store (`openem repo copy --to s3://…`): manifests are listed
 * first, so every pack and index they name is in the later listings; packs before their indexes, and
 * `config.json` last (with a new repository id), so an interrupted copy leaves a target that is no repository yet and that the next run
 * completes (objects already there with their size are skipped). The target must hold no repository. The
 * caller holds the gc lease, so no pack a listed manifest needs is deleted meanwhile.
 */
export async function copyRepository(from: BlobStore, to: BlobStore, options: { concurrency?: number; onObject?: (key: string, bytes: number) => void } = {}): Promise<CopyResult> {
  if (await to.exists(CONFIG_KEY)) throw conflict(`${to.location} is already an openem repository; refusing to copy over it`);
  const manifests = await from.list('manifests/');
  const packs = await from.list('packs/');
  const indexes = await from.list('index/');
  const known = new Set([...manifests, ...packs, ...indexes, CONFIG_KEY]);
  const others = (await from.list('')).filter((k) => !known.has(k));
  const result: CopyResult = { objects: 0, bytes: 0, skipped: 0 };
  const copy = async (key: string) => {
    const source = await from.stat(key);
    if (!source) return; // gone since listed (forget): nothing to copy
    const there = await to.stat(key);
    if (there?.size === source.size) {
      result.skipped++;
      return;
    }
    const data = await from.get(key);
    await to.put(key, data);
    result.objects++;
    result.bytes += data.length;
    options.onObject?.(key, data.length);
  };
  const concurrency = Math.max(1, options.concurrency ?? 4);
  for (const batch of [packs, indexes, others, manifests]) {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, batch.length) }, async () => {
        while (next < batch.length) await copy(batch[next++]);
      }),
    );
  }
  // The copy is a repository of its own: a new id, so the state store's catalog never takes it for the original.
  const config = await readConfig(from);
  if (!config) throw conflict(`${from.location} lost its config.json during the copy`);
  await writeConfig(to, { ...config, id: randomUUID() });
  result.objects++;
  return result;
}
