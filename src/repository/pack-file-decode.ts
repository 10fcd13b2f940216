import { closeSync, openSync, readSync } from 'node:fs';
import type { DCtx } from 'zstd-napi/binding.js';
import type { CodecReply, DecodeEntry, DecodeFileJob } from './block-codec-messages.js';
import { createBlockHasher, hashBlock, type BlockHashAlgorithm } from './block-hash.js';

/**
 * The codec worker's decode-file jobs (block-codec-messages.ts, DecodeFileJob): a full restore's pack ranges, read
 * from the local pack file on the worker and decoded into the caller's aligned slots, verified against their hashes.
 */

/** Stored (compressed) blocks of decode-file jobs are read here: reused, grown to the largest yet. */
let storedBlock: Buffer | undefined;
/** A raw block is read and hashed in pieces this size, so the hash reads what the kernel just wrote into L2. */
const RAW_PIECE = 256 * 1024;

/** Reads up to `view.length` bytes of `fd` at `position` (pread); fewer only at the end of the file. Returns how many. */
export function readAt(fd: number, view: Uint8Array, position: number): number {
  let done = 0;
  while (done < view.length) {
    const n = readSync(fd, view, done, view.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Reads a raw entry into `slot` piece by piece, hashing each piece as it lands; null if the file ends first. */
function readRawHashing(fd: number, position: number, slot: Uint8Array, algorithm: BlockHashAlgorithm): string | null {
  const hasher = createBlockHasher(algorithm);
  for (let at = 0; at < slot.length; at += RAW_PIECE) {
    const piece = slot.subarray(at, Math.min(slot.length, at + RAW_PIECE));
    if (readAt(fd, piece, position + at) !== piece.length) return null;
    hasher.update(piece);
  }
  return hasher.digest('hex');
}

/** One entry of a decode-file job into its slot: the reason it is bad, or undefined when it decoded to its hash. */
function decodeFileEntry(dctx: DCtx, fd: number, job: DecodeFileJob, e: DecodeEntry, slot: Uint8Array): string | undefined {
  const position = job.offset + e.offset;
  let actual: string;
  if (e.compression === 1) {
    if (!storedBlock || storedBlock.length < e.length) storedBlock = Buffer.allocUnsafeSlow(Math.max(e.length, 1024 * 1024));
    const stored = storedBlock.subarray(0, e.length);
    if (readAt(fd, stored, position) !== e.length) return 'pack is shorter than its index says';
    let n: number;
    try {
      n = dctx.decompress(slot, stored);
    } catch (err) {
      return `cannot decompress (${(err as Error).message})`;
    }
    if (n !== e.rawLength) return `length ${n} instead of ${e.rawLength}`;
    actual = hashBlock(job.algorithm, slot);
  } else {
    if (e.length !== e.rawLength) return `length ${e.length} instead of ${e.rawLength}`;
    const hash = readRawHashing(fd, position, slot, job.algorithm);
    if (hash === null) return 'pack is shorter than its index says';
    actual = hash;
  }
  return actual === e.hash ? undefined : `hash mismatch (content hashes to ${actual})`;
}

/** Reads a range of a local pack file here and decodes each entry into its slot of the caller's shared memory. */
export function decodeFileJob(job: DecodeFileJob, dctx: DCtx): CodecReply {
  let fd: number;
  try {
    fd = openSync(job.path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { id: job.id, type: 'missing', message: (err as Error).message };
    throw err;
  }
  try {
    for (let i = 0; i < job.entries.length; i++) {
      const e = job.entries[i];
      if (e.rawLength > job.into.slot) return { id: job.id, type: 'decode-failed', entry: i, reason: `raw length ${e.rawLength} is larger than a block` };
      const reason = decodeFileEntry(dctx, fd, job, e, new Uint8Array(job.into.buf, i * job.into.slot, e.rawLength));
      if (reason) return { id: job.id, type: 'decode-failed', entry: i, reason };
    }
  } finally {
    closeSync(fd);
  }
  return { id: job.id, type: 'verified', blocks: job.entries.length };
}
