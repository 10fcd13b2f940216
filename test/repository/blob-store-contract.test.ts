// The blob store contract (blob-store-contract.ts) on every store openem has: one factory per store.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { LocalBlobStore } from '../../src/repository/stores/local/local-blob-store.js';
import { blobStoreContract, type BlobStoreFactory } from './blob-store-contract.js';
import { tempDir } from './repository-fixtures.js';

const local: BlobStoreFactory = {
  name: 'local folder',
  async create() {
    const dir = await tempDir('openem-blobs-');
    const path = join(dir.path, 'store');
    return { store: new LocalBlobStore(path), location: pathToFileURL(path).href, cleanup: dir.cleanup };
  },
};

for (const factory of [local]) blobStoreContract(factory);
