import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { Compressor, Decompressor } from 'zstd-napi';
import type { CodecJob, CodecReply, CompressJob, DecodeJob, EncodedBlock, HashJob } from './block-codec-messages.js';

/**
 * Worker thread: hashing, zero detection, zstd compression and decompress+verify of blocks.
 * Data arrives as SharedArrayBuffers (backup: the reader's chunk ring, no copy) or transferred
 * ArrayBuffers (restore: the pack range just read); results are transferred back.
 */

const ZERO = Buffer.alloc(1024 * 1024);
/** zstd output at or above this share of the input is not worth storing compressed (backup-engines.md §6.3). */
const STORE_RAW_RATIO = 0.97;
const PROBE_BYTES = 64 * 1024;

const compressor = new Compressor();
let compressorLevel = -1;
const decompressor = new Decompressor();

function isZero(b: Buffer): boolean {
  for (let at = 0; at < b.length; at += ZERO.length) {
    const n = Math.min(ZERO.length, b.length - at);
    if (!b.subarray(at, at + n).equals(ZERO.subarray(0, n))) return false;
  }
  return true;
}

function hashJob(job: HashJob): (string | null)[] {
  return job.ranges.map(([off, len]) => {
    const b = Buffer.from(job.buf, off, len);
    if (job.detectZero && isZero(b)) return null;
    return createHash('sha256').update(b).digest('hex');
  });
}

function ownCopy(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(b.length));
  out.set(b);
  return out;
}

function compressJob(job: CompressJob): EncodedBlock[] {
  if (compressorLevel !== job.level) {
    compressor.setParameters({ compressionLevel: job.level });
    compressorLevel = job.level;
  }
  return job.ranges.map(([off, len]) => {
    const raw = Buffer.from(job.buf, off, len);
    // Entropy probe: random data (already compressed or encrypted guests) skips the full attempt.
    if (len > 4 * PROBE_BYTES && compressor.compress(raw.subarray(0, PROBE_BYTES)).length >= PROBE_BYTES * STORE_RAW_RATIO) {
      return { data: ownCopy(raw), compression: 0 };
    }
    const z = compressor.compress(raw);
    if (z.length >= len * STORE_RAW_RATIO) return { data: ownCopy(raw), compression: 0 };
    const exact = z.byteOffset === 0 && z.buffer.byteLength === z.length;
    return { data: exact ? new Uint8Array(z.buffer as ArrayBuffer, 0, z.length) : ownCopy(z), compression: 1 };
  });
}

function decodeJob(job: DecodeJob): CodecReply {
  const blocks: Uint8Array[] = [];
  for (let i = 0; i < job.entries.length; i++) {
    const e = job.entries[i];
    if (e.offset + e.length > job.buf.byteLength) return { id: job.id, type: 'decode-failed', entry: i, reason: 'pack is shorter than its index says' };
    const stored = Buffer.from(job.buf, e.offset, e.length);
    let raw: Uint8Array;
    try {
      raw = e.compression === 1 ? decompressor.decompress(stored) : ownCopy(stored);
    } catch (err) {
      return { id: job.id, type: 'decode-failed', entry: i, reason: `cannot decompress (${(err as Error).message})` };
    }
    if (raw.length !== e.rawLength) return { id: job.id, type: 'decode-failed', entry: i, reason: `length ${raw.length} instead of ${e.rawLength}` };
    const actual = createHash('sha256').update(raw).digest('hex');
    if (actual !== e.hash) return { id: job.id, type: 'decode-failed', entry: i, reason: `hash mismatch (content hashes to ${actual})` };
    const exact = raw.byteOffset === 0 && raw.buffer.byteLength === raw.length;
    blocks.push(exact ? raw : ownCopy(raw));
  }
  return { id: job.id, type: 'decode', blocks };
}

function transferablesOf(reply: CodecReply): ArrayBuffer[] {
  if (reply.type === 'compress') return reply.blocks.map((b) => b.data.buffer as ArrayBuffer);
  if (reply.type === 'decode') return reply.blocks.map((b) => b.buffer as ArrayBuffer);
  return [];
}

parentPort!.on('message', (job: CodecJob) => {
  let reply: CodecReply;
  try {
    if (job.type === 'hash') reply = { id: job.id, type: 'hash', hashes: hashJob(job) };
    else if (job.type === 'compress') reply = { id: job.id, type: 'compress', blocks: compressJob(job) };
    else reply = decodeJob(job);
  } catch (err) {
    reply = { id: job.id, type: 'error', message: (err as Error).message };
  }
  parentPort!.postMessage(reply, transferablesOf(reply));
});
