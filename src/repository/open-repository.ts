import { readdir } from 'node:fs/promises';
import { conflict, notFound } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import type { BlockHashAlgorithm } from './block-hash.js';
import { PackRepository, type PackRepositoryOptions } from './pack-repository.js';
import type { Repository } from './repository.js';
import { defaultConfig, readConfig, writeConfig } from './repository-config.js';
import { LocalBlobStore } from './stores/local/local-blob-store.js';

export interface OpenRepositoryOptions extends PackRepositoryOptions {
  /** Create the repository when the folder is missing or empty. */
  create?: boolean;
  /** Use this blob store instead of a local folder at `path` (tests inject faulty stores here). */
  store?: BlobStore;
  /** Block hash of a repository created here (default BLAKE3); an existing repository keeps its own. */
  hash?: BlockHashAlgorithm;
}

async function folderEntries(path: string): Promise<string[] | undefined> {
  try {
    return await readdir(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Creates an empty repository in a missing or empty folder; refuses anything else. */
export async function initRepository(path: string, options: { store?: BlobStore; hash?: BlockHashAlgorithm } = {}): Promise<void> {
  const store = options.store ?? new LocalBlobStore(path);
  if (await readConfig(store)) throw conflict(`${store.location} is already an openem repository`);
  const entries = options.store ? await store.list('') : await folderEntries(store.location);
  if (entries && entries.length > 0) throw conflict(`${store.location} is not empty and not an openem repository; refusing to create one there`);
  await writeConfig(store, defaultConfig(options.hash));
}

/** Opens the repository at `path` (validating its format version) and loads its index. */
export async function openRepository(path: string, options: OpenRepositoryOptions = {}): Promise<Repository> {
  const store = options.store ?? new LocalBlobStore(path);
  let config = await readConfig(store);
  if (!config && options.create) {
    await initRepository(path, { store, hash: options.hash });
    config = await readConfig(store);
  }
  if (!config) {
    const entries = options.store ? await store.list('') : await folderEntries(store.location);
    if (entries === undefined) throw notFound(`no repository at ${store.location} (the folder does not exist)`);
    throw notFound(
      entries.length === 0
        ? `no repository at ${store.location} (the folder is empty; initialise it first)`
        : `${store.location} is not an openem repository (it has no config.json)`,
    );
  }
  return PackRepository.load(store, config, options);
}
