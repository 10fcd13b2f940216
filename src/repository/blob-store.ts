/**
 * The seam between the repository format and where its bytes live (ARCHITECTURE.md, "Storage").
 * Keys are `/`-separated relative names (`packs/ab/ab12….pack`). A local folder is the first backend
 * (`stores/local/`); an S3 backend takes the same shape (`put` = PutObject, `putIfAbsent` = If-None-Match: *).
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
  /** Writes `data` under `key` atomically: readers see the old object or the whole new one, never a part. Durable when it resolves. */
  put(key: string, data: Buffer | readonly Buffer[]): Promise<void>;
  /** Like `put`, but only if `key` does not exist yet; false when it did (used for lock files). */
  putIfAbsent(key: string, data: Buffer): Promise<boolean>;
  /** The whole object or a byte range of it; NOT_FOUND when missing. */
  get(key: string, range?: ByteRange): Promise<Buffer>;
  stat(key: string): Promise<BlobStat | undefined>;
  exists(key: string): Promise<boolean>;
  /** Keys starting with `prefix` (a folder-like prefix ending in `/`), recursively, unordered. Half-written objects are never listed. */
  list(prefix: string): Promise<string[]>;
  /** Removes `key`; no error when it is already gone. */
  delete(key: string): Promise<void>;
}
