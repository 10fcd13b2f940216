import { randomUUID } from 'node:crypto';
import { corrupt, OpenemError } from '../errors.js';
import { BLOCK_SIZE } from '../disks/block-source.js';
import type { BlobStore } from './blob-store.js';
import { BLOCK_HASH_ALGORITHMS, type BlockHashAlgorithm } from './block-hash.js';

/** The repository format version file, `config.json` at the root. */
export interface RepositoryConfig {
  format: 'openem-repository';
  version: 1;
  blockSize: number;
  /** How blocks are named; chosen when the repository is created and never changed. */
  hash: BlockHashAlgorithm;
  compression: 'zstd';
  /**
   * Names this repository in the state store's catalog (`catalogKeyOf`), so a repository created anew at a location
   * is never mistaken for the one that was there; absent in repositories created before (their location names them).
   */
  id?: string;
}

export const CONFIG_KEY = 'config.json';

/** The config of a new repository: BLAKE3 block ids unless told otherwise (see block-hash.ts). */
export function defaultConfig(hash: BlockHashAlgorithm = 'blake3'): RepositoryConfig {
  return { format: 'openem-repository', version: 1, blockSize: BLOCK_SIZE, hash, compression: 'zstd', id: randomUUID() };
}

/** The repository's name in the state store's catalog: its id, or its location for one created before ids. */
export function catalogKeyOf(config: RepositoryConfig, store: BlobStore): string {
  return config.id ?? store.location;
}

export async function readConfig(store: BlobStore): Promise<RepositoryConfig | undefined> {
  if (!(await store.exists(CONFIG_KEY))) return undefined;
  let c: RepositoryConfig;
  try {
    c = JSON.parse((await store.get(CONFIG_KEY)).toString('utf8')) as RepositoryConfig;
  } catch (e) {
    throw corrupt(`${store.location}/${CONFIG_KEY} is not valid JSON (${(e as Error).message})`);
  }
  if (c?.format !== 'openem-repository') throw corrupt(`${store.location}/${CONFIG_KEY} is not an openem repository config`);
  if (c.version !== 1) {
    throw new OpenemError('NOT_IMPLEMENTED', `repository ${store.location} has format version ${c.version}; this openem reads version 1`);
  }
  if (c.blockSize !== BLOCK_SIZE || !BLOCK_HASH_ALGORITHMS.includes(c.hash) || c.compression !== 'zstd') {
    throw new OpenemError(
      'NOT_IMPLEMENTED',
      `repository ${store.location} uses blockSize ${c.blockSize}, ${c.hash}, ${c.compression}; only ${BLOCK_SIZE}/${BLOCK_HASH_ALGORITHMS.join('|')}/zstd is supported`,
    );
  }
  if (c.id !== undefined && (typeof c.id !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(c.id))) throw corrupt(`${store.location}/${CONFIG_KEY} has a malformed id`);
  return c;
}

export async function writeConfig(store: BlobStore, config: RepositoryConfig): Promise<void> {
  await store.put(CONFIG_KEY, Buffer.from(JSON.stringify(config, null, 2) + '\n'));
}
