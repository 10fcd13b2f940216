import type { CopyResult } from './copy-repository.js';
import type { BlockSource } from '../disks/block-source.js';
import type { VmConfig } from '../vm-config.js';

export type PointType = 'Full' | 'Increment';

export interface DiskManifest {
  name: string;
  size: number;
  /**
   * One entry per 1 MiB block: the hex block hash of its bytes (the repository config's `hash`: BLAKE3, or
   * SHA-256 in repositories created before), or null for an all-zero block (a hole).
   */
  blocks: (string | null)[];
  /**
   * The platform's changed-block-tracking checkpoint this disk was read at (`BlockSource.changeTracking`), so
   * that the next backup reads only the blocks written since; absent where the platform has no CBT.
   */
  checkpoint?: string;
}

/** A VM restore point as stored in the repository; written last, atomically (fsync, rename). */
export interface RestorePointManifest {
  formatVersion: 1;
  /** VM restore point id (a GUID). */
  id: string;
  /** The job run this VM restore point belongs to (EM's RestorePoint). */
  restorePointId: string;
  jobId: string;
  vmId: string;
  vmName: string;
  /** ISO-8601 UTC. */
  createdAt: string;
  pointType: PointType;
  /** The previous point this increment was taken against. */
  parentId?: string;
  vm: VmConfig;
  disks: DiskManifest[];
}

export interface ManifestSummary {
  id: string;
  restorePointId: string;
  jobId: string;
  vmId: string;
  vmName: string;
  createdAt: string;
  pointType: PointType;
}

export interface BackupProgress {
  diskName: string;
  bytesDone: number;
  bytesTotal: number;
  /** Bytes of new data written to packs (after dedup, before compression). */
  bytesNew: number;
}

export interface BackupStats {
  blocksTotal: number;
  blocksZero: number;
  blocksNew: number;
  bytesRead: number;
  bytesStored: number;
}

/** One backup of one VM, in progress. Nothing becomes visible before `commit`. */
export interface BackupWriter {
  addDisk(
    name: string,
    source: BlockSource,
    /** `previous`: the same disk in the restore point this backup is an increment of; with CBT, only the blocks
     * written since its checkpoint are read, the others are the previous point's. */
    options?: {
      previous?: DiskManifest;
      signal?: AbortSignal;
      onProgress?: (p: BackupProgress) => void;
      /** Hears what the backup session should say about this disk (a broken CBT chain and the full read it cost). */
      onNote?: (text: string) => void;
    },
  ): Promise<DiskManifest>;
  commit(fields: Omit<RestorePointManifest, 'formatVersion' | 'disks'>): Promise<{ manifest: RestorePointManifest; stats: BackupStats }>;
  /** Drops what was written (orphan packs are left for gc; never a manifest). */
  abort(): Promise<void>;
}

export interface BlockFetch {
  /** Block index within the disk. */
  index: number;
  hash: string;
}

/** Hashes of consecutive blocks of a source, from `firstBlock` on; null for all-zero blocks. */
export interface HashedBlocks {
  firstBlock: number;
  hashes: (string | null)[];
  /** Bytes of the source these blocks cover. */
  bytes: number;
}

export interface FetchOptions {
  signal?: AbortSignal;
  /** Reads in flight. */
  concurrency?: number;
  onProgress?: (blocksDone: number, bytesDone: number) => void;
  /**
   * fetchBlocks only: hand each block to `write` as a view of page-aligned shared memory (disks/aligned-memory.ts),
   * which a writer bypassing the page cache writes without a copy. The memory is reused once `write`'s promise
   * settles: the writer must be done with the bytes by then (keep none).
   */
  alignedBlocks?: boolean;
}

export interface CheckResult {
  ok: boolean;
  manifests: number;
  packs: number;
  blocksChecked: number;
  problems: string[];
  /** Packs no manifest needs (an interrupted backup's, or data waiting for gc): not problems. */
  unreferencedPacks?: string[];
}

export interface Repository {
  readonly location: string;
  /** Takes the repository's lease for a backup of the VM (two backups of one VM may not write at once, nor gc beside one) and starts a backup. */
  beginBackup(vmId: string): Promise<BackupWriter>;
  listManifests(): Promise<ManifestSummary[]>;
  readManifest(id: string): Promise<RestorePointManifest | undefined>;
  /** A disk of a restore point as a block source, read straight from packs (with a small block cache). */
  openDisk(manifest: RestorePointManifest, diskName: string): Promise<BlockSource>;
  /**
   * Fetches blocks planned by pack, several reads in flight, decompresses and verifies each block's hash
   * off the main thread, and hands each verified block to `write` (out of order). A block whose hash does
   * not match fails with a CORRUPT error naming the block.
   */
  fetchBlocks(blocks: BlockFetch[], write: (index: number, data: Buffer) => Promise<void>, options?: FetchOptions): Promise<void>;
  /**
   * Proves that every block is in the repository and decompresses to its hash, reading each pack range
   * that holds one once and keeping nothing; fails with a CORRUPT error naming the pack. An in-place restore
   * runs this before it changes the VM, so a bad repository never leaves a half-written disk.
   */
  verifyBlocks(blocks: BlockFetch[], options?: FetchOptions): Promise<void>;
  /** Hex block hash of each buffer, computed off the main thread. */
  hashBlocks(buffers: Buffer[]): Promise<string[]>;
  /**
   * Hashes every allocated block of `source` with this repository's block hash on the worker pool (null for
   * all-zero blocks), several chunks in flight, without copying blocks between threads; `onHashed` gets runs
   * of consecutive blocks in any order. Blocks outside the source's allocated extents are not reported (they are holes).
   */
  hashSource(source: BlockSource, onHashed: (run: HashedBlocks) => void, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Stored (compressed) and raw length of each block the repository holds, for sizing restore points; a hash it
   * does not hold is absent from the answer. Looks at packs other processes wrote since the index was loaded.
   */
  blockSizes(hashes: Iterable<string>): Promise<Map<string, { stored: number; raw: number }>>;
  check(options?: { readData?: boolean }): Promise<CheckResult>;
  /** Removes manifests (retention); data goes with the next `gc`. */
  forget(manifestIds: string[]): Promise<void>;
  /** Deletes packs nothing references; returns what it removed. */
  gc(): Promise<{ packsDeleted: number; bytesFreed: number }>;
  /**
   * Copies the whole repository to the store at `location` (a URL or local path holding no repository), under the
   * gc lease (so neither gc nor a backup runs beside it).
   */
  copyTo(location: string): Promise<CopyResult>;
  /**
   * Resolves when the blob store answers a read of the repository's config (a HEAD on S3) within `timeoutMs`;
   * UNAVAILABLE naming the reason otherwise. For readiness (`/readyz`).
   */
  probe(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}
