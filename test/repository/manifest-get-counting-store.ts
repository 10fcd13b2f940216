import type { BlobStore, ByteRange } from '../../src/repository/blob-store.js';

/** Counts the gets of manifest objects. */
export class ManifestGetCountingStore implements BlobStore {
  manifestGets = 0;
  constructor(private readonly inner: BlobStore) {}
  get location() {
    return this.inner.location;
  }
  put(key: string, data: Buffer | readonly Buffer[]) {
    return this.inner.put(key, data);
  }
  get(key: string, range?: ByteRange) {
    if (key.startsWith('manifests/')) this.manifestGets++;
    return this.inner.get(key, range);
  }
  stat(key: string) {
    return this.inner.stat(key);
  }
  exists(key: string) {
    return this.inner.exists(key);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
}
