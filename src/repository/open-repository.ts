import { conflict, notFound } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import type { BlockHashAlgorithm } from './block-hash.js';
import { PackRepository, type PackRepositoryOptions } from './pack-repository.js';
import type { Repository } from './repository.js';
import { defaultConfig, readConfig, writeConfig } from './repository-config.js';
import { openBlobStore } from './stores/open-blob-store.js';

export interface OpenRepositoryOptions extends PackRepositoryOptions {
  /** Create the repository when the location holds nothing yet. */
  create?: boolean;
  /** Use this blob store instead of opening `location` (tests inject faulty stores here). */
  store?: BlobStore;
  /** Block hash of a repository created here (default BLAKE3); an existing repository keeps its own. */
  hash?: BlockHashAlgorithm;
}

/**
 * Creates an empty repository at `location` (a URL or a local path, see `openBlobStore`) when it holds nothing;
 * refuses anything else.
 */
export async function initRepository(location: string, options: { store?: BlobStore; hash?: BlockHashAlgorithm } = {}): Promise<void> {
  await initStore(options.store ?? openBlobStore(location), options.hash);
}

async function initStore(store: BlobStore, hash: BlockHashAlgorithm | undefined): Promise<void> {
  if (await readConfig(store)) throw conflict(`${store.location} is already an openem repository`);
  if ((await store.list('')).length > 0) throw conflict(`${store.location} is not empty and not an openem repository; refusing to create one there`);
  await writeConfig(store, defaultConfig(hash));
}

/**
 * Opens the repository at `location` — a URL (`file:///srv/openem/repository`) or a local path — validating its
 * format version, and loads its index.
 */
export async function openRepository(location: string, options: OpenRepositoryOptions = {}): Promise<Repository> {
  const store = options.store ?? openBlobStore(location);
  let config = await readConfig(store);
  if (!config && options.create) {
    await initStore(store, options.hash);
    config = await readConfig(store);
  }
  if (!config) {
    throw notFound(
      (await store.list('')).length === 0
        ? `no repository at ${store.location} (nothing is stored there; initialise it first)`
        : `${store.location} is not an openem repository (it has no config.json)`,
    );
  }
  return PackRepository.load(store, config, options);
}
