/**
 * The seam between the repository format and where its bytes live (ARCHITECTURE.md, "Storage").
 * Keys are `/`-separated relative names (`packs/ab/ab12….pack`). A local folder is the first backend
 * (`stores/local/`); an S3 backend takes the same shape (`put` = PutObject, ranged `get` = GetObject with Range).
 * No operation is conditional: what must be exclusive (gc beside backups) is leased in the state store
 * (`repository-leases.ts`), so no store needs conditional writes or list-after-write consistency for it.
 * `stores/open-blob-store.ts` picks a store by URL; the behaviour every store keeps is
 * test/repository/blob-store-contract.ts.
 */

export interface ByteRange {
  offset: number;
  length: number;
}

export interface BlobStat {
  size: number;
}

export interface BlobStore {
  /** Human-readable location, used in error messages. */
  readonly location: string;
  /**
   * Writes `data` under `key` atomically: readers see the old object or the whole new one, never a part. Durable when
   * it resolves. A first part in page-aligned memory (`disks/aligned-memory.ts`) may be written past the page cache.
   */
  put(key: string, data: Buffer | readonly Buffer[]): Promise<void>;
  /** The whole object or a byte range of it; NOT_FOUND when missing. */
  get(key: string, range?: ByteRange): Promise<Buffer>;
  /**
   * Optional: a byte range read into the caller's memory (at least `range.length` bytes, reused from read to read,
   * so a restore allocates nothing per range); the number of bytes read, fewer only at the object's end. NOT_FOUND
   * when missing. A store without it is read with `get`.
   */
  readInto?(key: string, range: ByteRange, into: Uint8Array): Promise<number>;
  /**
   * Optional: the local file that holds `key` (whether or not it exists), for a reader that reads it on a worker thread
   * itself (a full restore's packs). A store whose objects are not local files has none.
   */
  localFile?(key: string): string;
  stat(key: string): Promise<BlobStat | undefined>;
  exists(key: string): Promise<boolean>;
  /** Keys starting with `prefix` (a folder-like prefix ending in `/`), recursively, unordered. Half-written objects are never listed. */
  list(prefix: string): Promise<string[]>;
  /** Removes `key`; no error when it is already gone. */
  delete(key: string): Promise<void>;
  /** Frees what the store holds open (an S3 client's connections); optional. */
  destroy?(): void;
}
