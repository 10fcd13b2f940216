/** Messages between `block-codec-pool.ts` (main thread) and `block-codec-worker.ts`. */
import type { BlockHashAlgorithm } from './block-hash.js';

/** [offset, length] within the job's buffer. */
export type Range = [number, number];

export interface HashJob {
  type: 'hash';
  id: number;
  algorithm: BlockHashAlgorithm;
  buf: SharedArrayBuffer | ArrayBuffer;
  ranges: Range[];
  /** Report all-zero ranges as null instead of hashing them. */
  detectZero: boolean;
}

/**
 * Reads blocks of a local file (a source's `localFile`) inside the worker and hashes each one while it is still in the core's
 * cache (null for all-zero blocks): nothing crosses threads but a descriptor number and the hex digests.
 */
export interface HashFileJob {
  type: 'hash-file';
  id: number;
  algorithm: BlockHashAlgorithm;
  /**
   * A descriptor the main thread opened (worker threads share the process's descriptors) and closes; the job reads
   * it with pread only, so the kernel's read-ahead state of that open file follows the caller's stream of jobs.
   */
  fd: number;
  /** Byte offset of the first block (a multiple of the block size). */
  offset: number;
  /** Bytes to read; the last block may be short. */
  length: number;
  blockSize: number;
}

/** Compresses in place (see EncodedBlock): the buffer must be shared, so the caller sees what was written. */
export interface CompressJob {
  type: 'compress';
  id: number;
  buf: SharedArrayBuffer;
  ranges: Range[];
  level: number;
}

export interface DecodeEntry {
  /** Offset of the stored blob within the job's buffer. */
  offset: number;
  length: number;
  rawLength: number;
  compression: number;
  hash: string;
  /**
   * Only these [offset, length] pieces of the decoded block come back, one after another in a buffer of their own:
   * the block is decoded into the worker's own reused memory and verified there (a listing needs 4 KiB of a block).
   */
  slices?: Range[];
}

export interface DecodeJob {
  type: 'decode';
  id: number;
  algorithm: BlockHashAlgorithm;
  /** The stored bytes: transferred, or (with `into`) a fetch lane's shared memory it reuses for every range. */
  buf: ArrayBuffer | SharedArrayBuffer;
  /** How many bytes of `buf` the range filled (reused memory is longer than most ranges); all of it when absent. */
  length?: number;
  entries: DecodeEntry[];
  /** Verify only: the decompressed blocks are dropped in the worker and nothing but the verdict comes back. */
  verifyOnly?: boolean;
  /** Every block comes back in an ArrayBuffer of its own: a raw block kept in a cache must not hold its whole range alive. */
  ownBlocks?: boolean;
  /** Decode entry i into `into` at i * `slot` (page-aligned shared memory the caller writes from); nothing comes back but the verdict. */
  into?: { buf: SharedArrayBuffer; slot: number };
}

/**
 * Like a DecodeJob with `into`, but the stored range is read here, from the pack file at `path` (a local store's,
 * `BlobStore.localFile`) starting at `offset`: a raw block is read straight into its slot and hashed piece by piece
 * while it is in this core's cache, a compressed one is read into this worker's reused memory and decompressed into
 * its slot. Nothing crosses threads but the names, and the main thread's I/O threads are left to the writes.
 */
export interface DecodeFileJob {
  type: 'decode-file';
  id: number;
  algorithm: BlockHashAlgorithm;
  path: string;
  /** File offset that the entries' offsets count from. */
  offset: number;
  entries: DecodeEntry[];
  into: { buf: SharedArrayBuffer; slot: number };
}

export type CodecJob = HashJob | HashFileJob | CompressJob | DecodeJob | DecodeFileJob;

/** A compressed block's bytes are the first `length` bytes of its range in the job's buffer; a raw one is its range. */
export interface EncodedBlock {
  length: number;
  compression: 0 | 1;
}

export type CodecReply =
  | { id: number; type: 'hash'; hashes: (string | null)[] }
  | { id: number; type: 'compress'; blocks: EncodedBlock[] }
  /** Raw blocks are views into the job's buffer (transferred back once); decompressed ones have their own; an entry with `slices` gets its pieces. */
  | { id: number; type: 'decode'; blocks: Uint8Array[] }
  | { id: number; type: 'verified'; blocks: number }
  | { id: number; type: 'decode-failed'; entry: number; reason: string }
  /** A decode-file job's pack file does not exist. */
  | { id: number; type: 'missing'; message: string }
  | { id: number; type: 'error'; message: string };
