// The blob store contract (blob-store-contract.ts) on every store openem has: one factory per store.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { LocalBlobStore } from '../../src/repository/stores/local/local-blob-store.js';
import { blobStoreContract, type BlobStoreFactory } from './blob-store-contract.js';
import { tempDir } from './repository-fixtures.js';
import { randomUUID } from 'node:crypto';
import { S3BlobStore } from '../../src/repository/stores/s3/s3-blob-store.js';
import { startS3Server } from './s3-test-server.js';

const local: BlobStoreFactory = {
  name: 'local folder',
  async create() {
    const dir = await tempDir('openem-blobs-');
    const path = join(dir.path, 'store');
    return { store: new LocalBlobStore(path), location: pathToFileURL(path).href, cleanup: dir.cleanup };
  },
};

const s3: BlobStoreFactory = {
  name: 's3 (s3rver)',
  async create() {
    const server = await startS3Server();
    // The writer process the contract kills opens the store by its URL, so it finds the server through the environment.
    Object.assign(process.env, server.env);
    const location = `s3://${server.bucket}/repo-${randomUUID()}`;
    const store = S3BlobStore.fromUrl(new URL(location));
    return {
      store,
      location,
      async cleanup() {
        store.destroy();
        await server.stop();
      },
    };
  },
};

for (const factory of [local, s3]) blobStoreContract(factory);
