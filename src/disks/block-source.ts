/**
 * The one interface through which every disk is read: a VM's image file on a datastore,
 * or a disk inside a restore point in the repository (ARCHITECTURE.md, "block source").
 * The partition-table parser and the ext4 reader take a BlockSource, so listing a live VM,
 * indexing a backup, serving a mount and reading one file for a catalog restore are one code path.
 */

/** Enterprise Manager's default block size; the unit of dedup, QuickRollback and restore planning. */
export const BLOCK_SIZE = 1024 * 1024;

/** A byte range [offset, offset + length). */
export interface Extent {
  offset: number;
  length: number;
}

export interface BlockSource {
  /** Size of the disk in bytes. */
  readonly size: number;
  /**
   * Reads `length` bytes at `offset`. Reads past the end are cut at `size`; holes read as zeros.
   * The returned buffer may be shared with a cache: callers must not modify it.
   */
  read(offset: number, length: number): Promise<Buffer>;
  /** Where data may be (holes excluded). A source that cannot tell returns one extent covering it all. */
  allocatedExtents(): Promise<Extent[]>;
  close(): Promise<void>;
}
