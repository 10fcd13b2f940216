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
}

export const CONFIG_KEY = 'config.json';

/** The config of a new repository: BLAKE3 block ids unless told otherwise (see block-hash.ts). */
export function defaultConfig(hash: BlockHashAlgorithm = 'blake3'): RepositoryConfig {
  return { format: 'openem-repository', version: 1, blockSize: BLOCK_SIZE, hash, compression: 'zstd' };
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
  return c;
}

export async function writeConfig(store: BlobStore, config: RepositoryConfig): Promise<void> {
  await store.put(CONFIG_KEY, Buffer.from(JSON.stringify(config, null, 2) + '\n'));
}
