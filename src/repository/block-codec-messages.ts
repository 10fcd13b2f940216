/** Messages between `block-codec-pool.ts` (main thread) and `block-codec-worker.ts`. */

/** [offset, length] within the job's buffer. */
export type Range = [number, number];

export interface HashJob {
  type: 'hash';
  id: number;
  buf: SharedArrayBuffer | ArrayBuffer;
  ranges: Range[];
  /** Report all-zero ranges as null instead of hashing them. */
  detectZero: boolean;
}

export interface CompressJob {
  type: 'compress';
  id: number;
  buf: SharedArrayBuffer | ArrayBuffer;
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
}

export interface DecodeJob {
  type: 'decode';
  id: number;
  buf: ArrayBuffer;
  entries: DecodeEntry[];
}

export type CodecJob = HashJob | CompressJob | DecodeJob;

export interface EncodedBlock {
  data: Uint8Array;
  compression: 0 | 1;
}

export type CodecReply =
  | { id: number; type: 'hash'; hashes: (string | null)[] }
  | { id: number; type: 'compress'; blocks: EncodedBlock[] }
  | { id: number; type: 'decode'; blocks: Uint8Array[] }
  | { id: number; type: 'decode-failed'; entry: number; reason: string }
  | { id: number; type: 'error'; message: string };
