import { parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { Decompressor } from 'zstd-napi';
import type { CodecJob, CodecReply, CompressJob, DecodeEntry, DecodeJob, EncodedBlock, HashFileJob, HashJob } from './block-codec-messages.js';
import { decodeFileJob, readAt } from './pack-file-decode.js';
import { hashBlock } from './block-hash.js';

/**
 * Worker thread: hashing, zero detection, zstd compression and decompress+verify of blocks.
 * Data arrives as SharedArrayBuffers (backup: the reader's chunk ring, no copy), transferred
 * ArrayBuffers (restore: the pack range just read), or is read here from a source that is a local file
 * (`BlockSource.localFile`: QuickRollback);
 * results are transferred back.
 */

const ZERO = Buffer.alloc(1024 * 1024);
/** zstd output at or above this share of the input is not worth storing compressed (backup-engines.md §6.3). */
const STORE_RAW_RATIO = 0.97;
const PROBE_BYTES = 64 * 1024;

/** zstd's own context calls (zstd-napi's binding), so output goes into space this worker reuses. */
const zstd = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof import('zstd-napi/binding.js');
const compressor = new zstd.CCtx();
/** Compression output, sized for the largest block yet and reused: no allocation per block. */
let compressed: Buffer | undefined;
const decompressor = new Decompressor();
/** Decompression straight into the caller's memory (decode jobs with `into`). */
const dctx = new zstd.DCtx();
/** Reading space for hash-file jobs (one FILE_READ_BYTES piece), reused so what was read is hashed while it is still cached. */
let fileBlock: Buffer | undefined;

function isZero(b: Uint8Array): boolean {
  for (let at = 0; at < b.length; at += ZERO.length) {
    const n = Math.min(ZERO.length, b.length - at);
    if (!ZERO.subarray(0, n).equals(b.subarray(at, at + n))) return false;
  }
  return true;
}

function hashJob(job: HashJob): (string | null)[] {
  return job.ranges.map(([off, len]) => {
    const b = new Uint8Array(job.buf, off, len);
    if (job.detectZero && isZero(b)) return null;
    return hashBlock(job.algorithm, b);
  });
}

/**
 * Bytes a hash-file job asks the kernel for at once: a whole number of blocks, as large as the device's largest
 * request here (virtio: max_sectors_kb 4096). A miss of this size is read as one large request even where the
 * kernel sees no stream (a lane's first read, after a jump); 256 KiB pieces started its read-ahead at 256 KiB.
 * The piece is hashed while it is in the L3 cache (32 MiB here): warm, 3 GiB took the same CPU as in
 * 256 KiB pieces (0.62-0.75 CPU-s against 0.70-0.82, load 10).
 */
const FILE_READ_BYTES = 4 * 1024 * 1024;

function hashFileJob(job: HashFileJob): (string | null)[] {
  const readBytes = Math.max(job.blockSize, Math.floor(FILE_READ_BYTES / job.blockSize) * job.blockSize);
  if (!fileBlock || fileBlock.length < readBytes) fileBlock = Buffer.allocUnsafeSlow(readBytes);
  const piece = fileBlock;
  const out: (string | null)[] = [];
  for (let at = 0; at < job.length; at += readBytes) {
    const data = readFully(job.fd, piece, Math.min(readBytes, job.length - at), job.offset + at);
    for (let block = 0; block < data.length; block += job.blockSize) {
      const b = data.subarray(block, Math.min(data.length, block + job.blockSize));
      out.push(isZero(b) ? null : hashBlock(job.algorithm, b));
    }
  }
  return out;
}

/** `length` bytes at `position` into `buf`; past the end of the file reads as zeros, as a hole does. */
function readFully(fd: number, buf: Buffer, length: number, position: number): Buffer {
  const done = readAt(fd, buf.subarray(0, length), position);
  if (done < length) buf.fill(0, done, length);
  return buf.subarray(0, length);
}

function ownCopy(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(b.length));
  out.set(b);
  return out;
}

/**
 * Compresses each range where it lies: a block worth storing compressed has its zstd frame written over the start
 * of its own range (its raw bytes are hashed already and not needed again), a block that does not compress stays
 * as it is. Nothing is allocated per block, so a long backup does not fragment the allocator's arenas (which kept
 * a backup's resident memory at twice what it used).
 */
function compressJob(job: CompressJob): EncodedBlock[] {
  return job.ranges.map(([off, len]) => {
    const raw = Buffer.from(job.buf, off, len);
    const bound = zstd.compressBound(len);
    if (!compressed || compressed.length < bound) compressed = Buffer.allocUnsafeSlow(bound);
    // Entropy probe: random data (already compressed or encrypted guests) skips the full attempt.
    if (len > 4 * PROBE_BYTES && compressor.compress(compressed, raw.subarray(0, PROBE_BYTES), job.level) >= PROBE_BYTES * STORE_RAW_RATIO) {
      return { length: len, compression: 0 };
    }
    const n = compressor.compress(compressed, raw, job.level);
    if (n >= len * STORE_RAW_RATIO) return { length: len, compression: 0 };
    compressed.copy(raw, 0, 0, n);
    return { length: n, compression: 1 };
  });
}

/**
 * Decodes each entry into its slot of the caller's shared memory: a compressed block is decompressed there, a raw one
 * copied there, and the hash is taken from there. The memory is reused for every range, so nothing is allocated
 * per block (no page faults on fresh memory, no garbage) and the caller writes the slots without a copy.
 */
function decodeIntoJob(job: DecodeJob, into: { buf: SharedArrayBuffer; slot: number }): CodecReply {
  const storedLength = Math.min(job.length ?? job.buf.byteLength, job.buf.byteLength);
  for (let i = 0; i < job.entries.length; i++) {
    const e = job.entries[i];
    if (e.offset + e.length > storedLength) return { id: job.id, type: 'decode-failed', entry: i, reason: 'pack is shorter than its index says' };
    if (e.rawLength > into.slot) return { id: job.id, type: 'decode-failed', entry: i, reason: `raw length ${e.rawLength} is larger than a block` };
    const stored = new Uint8Array(job.buf, e.offset, e.length);
    const raw = new Uint8Array(into.buf, i * into.slot, e.rawLength);
    if (e.compression === 1) {
      let n: number;
      try {
        n = dctx.decompress(raw, stored);
      } catch (err) {
        return { id: job.id, type: 'decode-failed', entry: i, reason: `cannot decompress (${(err as Error).message})` };
      }
      if (n !== e.rawLength) return { id: job.id, type: 'decode-failed', entry: i, reason: `length ${n} instead of ${e.rawLength}` };
    } else {
      if (e.length !== e.rawLength) return { id: job.id, type: 'decode-failed', entry: i, reason: `length ${e.length} instead of ${e.rawLength}` };
      raw.set(stored);
    }
    const actual = hashBlock(job.algorithm, raw);
    if (actual !== e.hash) return { id: job.id, type: 'decode-failed', entry: i, reason: `hash mismatch (content hashes to ${actual})` };
  }
  return { id: job.id, type: 'verified', blocks: job.entries.length };
}

/** Where entries with `slices` are decompressed: reused, so a listing's scattered blocks cost no fresh memory. */
let scratch: Buffer | undefined;

/** A compressed block decoded into `scratch` (a raw one stays where it is), for an entry with `slices`. */
function decodeToScratch(stored: Uint8Array, e: DecodeEntry): Uint8Array {
  if (e.compression !== 1) return stored;
  if (!scratch || scratch.length < e.rawLength) scratch = Buffer.allocUnsafeSlow(Math.max(e.rawLength, 1024 * 1024));
  const n = dctx.decompress(scratch, stored);
  return scratch.subarray(0, n);
}

/** The entry's slices of its decoded block, one after another in a buffer of their own. */
function slicesOf(raw: Uint8Array, slices: [number, number][]): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(slices.reduce((n, [, len]) => n + len, 0)));
  let at = 0;
  for (const [off, len] of slices) {
    out.set(raw.subarray(off, off + len), at);
    at += len;
  }
  return out;
}

function decodeJob(job: DecodeJob): CodecReply {
  if (job.into) return decodeIntoJob(job, job.into);
  const blocks: Uint8Array[] = [];
  for (let i = 0; i < job.entries.length; i++) {
    const e = job.entries[i];
    if (e.offset + e.length > job.buf.byteLength) return { id: job.id, type: 'decode-failed', entry: i, reason: 'pack is shorter than its index says' };
    const stored = new Uint8Array(job.buf, e.offset, e.length);
    let raw: Uint8Array;
    try {
      // A raw block stays where it is: a view into the pack range, which goes back to the caller whole.
      raw = e.slices ? decodeToScratch(stored, e) : e.compression === 1 ? decompressor.decompress(stored as Buffer) : stored;
    } catch (err) {
      return { id: job.id, type: 'decode-failed', entry: i, reason: `cannot decompress (${(err as Error).message})` };
    }
    if (raw.length !== e.rawLength) return { id: job.id, type: 'decode-failed', entry: i, reason: `length ${raw.length} instead of ${e.rawLength}` };
    const actual = hashBlock(job.algorithm, raw);
    if (actual !== e.hash) return { id: job.id, type: 'decode-failed', entry: i, reason: `hash mismatch (content hashes to ${actual})` };
    if (job.verifyOnly) continue;
    if (e.slices) {
      blocks.push(slicesOf(raw, e.slices));
      continue;
    }
    const ownsMemory = raw.byteOffset === 0 && raw.buffer.byteLength === raw.length;
    const mayShareRange = raw.buffer === job.buf && !(job.ownBlocks && job.entries.length > 1);
    blocks.push(ownsMemory || mayShareRange ? raw : ownCopy(raw));
  }
  return job.verifyOnly ? { id: job.id, type: 'verified', blocks: job.entries.length } : { id: job.id, type: 'decode', blocks };
}

function transferablesOf(reply: CodecReply): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  if (reply.type === 'decode') for (const b of reply.blocks) buffers.push(b.buffer as ArrayBuffer);
  // Several raw blocks share the pack range's buffer; each buffer may be listed only once.
  return [...new Set(buffers)];
}

parentPort!.on('message', (job: CodecJob) => {
  let reply: CodecReply;
  try {
    if (job.type === 'hash') reply = { id: job.id, type: 'hash', hashes: hashJob(job) };
    else if (job.type === 'hash-file') reply = { id: job.id, type: 'hash', hashes: hashFileJob(job) };
    else if (job.type === 'compress') reply = { id: job.id, type: 'compress', blocks: compressJob(job) };
    else if (job.type === 'decode-file') reply = decodeFileJob(job, dctx);
    else reply = decodeJob(job);
  } catch (err) {
    reply = { id: job.id, type: 'error', message: (err as Error).message };
  }
  parentPort!.postMessage(reply, transferablesOf(reply));
});
