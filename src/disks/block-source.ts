/**
 * The one interface through which every disk is read: a VM's image file on a datastore,
 * or a disk inside a restore point in the repository (ARCHITECTURE.md, "block source").
 * The partition-table parser and the ext4 reader take a BlockSource, so listing a live VM,
 * indexing a backup, serving a mount and reading one file for a catalog restore are one code path.
 *
 * Beside the four members every source has, a source may declare what its platform brings (the optional members
 * below). Readers ask for a capability and fall back when it is absent; none of them asks what kind of source it is.
 */

/** Enterprise Manager's default block size; the unit of dedup, QuickRollback and restore planning. */
export const BLOCK_SIZE = 1024 * 1024;

/** A byte range [offset, offset + length). */
export interface Extent {
  offset: number;
  length: number;
}

/**
 * Changed-block tracking (CBT), where the platform has it (QEMU dirty bitmaps through libvirt checkpoints).
 * A backup records `checkpoint` with the disk it read; the next backup asks for the blocks changed since it and
 * reads only those.
 */
export interface ChangeTracking {
  /**
   * The checkpoint this opening of the disk stands for (every later write is reported after it), when the opener
   * asked for one (a backup); other openings can still ask what changed since an earlier checkpoint.
   */
  readonly checkpoint?: string;
  /**
   * Where the disk was written since `checkpoint` (over-covering is allowed, missing a write is not), or why the
   * platform can no longer tell (the chain is broken: VM recreated, disk replaced, checkpoint lost).
   */
  changedBlocksSince(checkpoint: string): Promise<Extent[] | ChainBreak>;
}

/** Changed-block tracking cannot count from a checkpoint: the reader falls back to reading (or hashing) it all. */
export interface ChainBreak {
  readonly broken: string;
}

/** How a point-in-time view of a running VM's disk was taken, for the backup session to say. */
export interface SnapshotConsistency {
  /** `frozen`: the guest's filesystems were frozen through its agent; `crash-consistent`: as if power was cut. */
  readonly kind: 'frozen' | 'crash-consistent';
  /** Why it is crash-consistent (no guest agent, the freeze failed). */
  readonly reason?: string;
  /** The guest has an agent but freezing failed: worth a warning. */
  readonly freezeFailed?: boolean;
}

/** A source whose bytes are those of a raw local file (or block device) from `offset` on. */
export interface LocalFileView {
  path: string;
  offset: number;
}

export interface BlockSource {
  /** Size of the disk in bytes. */
  readonly size: number;
  /**
   * Reads `length` bytes at `offset`. Reads past the end are cut at `size`; holes read as zeros.
   * The returned buffer may be shared with a cache: callers must not modify it.
   */
  read(offset: number, length: number): Promise<Buffer>;
  /**
   * Where data may be (holes excluded): the one extent map every reader of the disk (backup, QuickRollback)
   * follows, so that nothing reads a hole. Over-covering is allowed, missing data is not. A source that cannot
   * tell returns one extent covering it all.
   */
  allocatedExtents(): Promise<Extent[]>;
  close(): Promise<void>;
  /** Optional: fills `target` with the bytes at `offset` (zeros past the end) without a buffer of its own. */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
  /**
   * Optional: the bytes are a local raw file's, which another thread may open and read by itself (the codec
   * workers hash such a source where they read it, in their core's cache).
   */
  readonly localFile?: LocalFileView;
  /** Optional: changed-block tracking. */
  readonly changeTracking?: ChangeTracking;
  /** Optional: a running VM's disk read live says how its view was taken, once the first read or extent map ran. */
  readonly consistency?: SnapshotConsistency;
}
