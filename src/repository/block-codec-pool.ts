import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { notFound, OpenemError } from '../errors.js';
import type { CodecJob, CodecReply, DecodeEntry, EncodedBlock, Range } from './block-codec-messages.js';
import type { BlockHashAlgorithm } from './block-hash.js';

/** Distributive Omit, so each job variant keeps its own fields. */
type JobWithoutId = CodecJob extends infer J ? (J extends CodecJob ? Omit<J, 'id'> : never) : never;

interface Pending {
  resolve: (r: CodecReply) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Jobs sent to this worker since it started. */
  sent: number;
}

/** Raised by `decode` when a stored block does not decompress to its hash; the caller names the pack. */
export class BlockDecodeError extends Error {
  constructor(readonly entry: number, readonly reason: string) {
    super(reason);
  }
}

/**
 * A small pool of codec workers (one per core). Jobs go to the least busy worker; busy workers keep
 * the process alive, idle ones do not (so a forgotten `close` never hangs a CLI or a test). The workers start
 * with the first job: a server that has not backed up, restored or read a restore point yet holds none (each is a
 * V8 isolate of its own, about 10 MiB resident).
 */
export class BlockCodecPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private lastSlot = -1;
  private closed = false;
  private closing: Promise<void> | undefined;
  readonly size: number;

  constructor(
    /** The repository's block hash: every hash and verification on this pool uses it. */
    readonly algorithm: BlockHashAlgorithm,
    size = availableParallelism(),
  ) {
    this.size = Math.max(1, size);
  }

  /** The number of workers running (0 until the first job). */
  get started(): number {
    return this.slots.length;
  }

  /** Jobs sent to each worker since the pool started (empty until the first job). */
  get jobsSent(): number[] {
    return this.slots.map((s) => s.sent);
  }

  private start(): void {
    for (let i = 0; i < this.size; i++) {
      const worker = startCodecWorker();
      const slot: Slot = { worker, pending: new Map(), sent: 0 };
      worker.unref();
      worker.on('message', (reply: CodecReply) => this.settle(slot, reply));
      worker.on('error', (err) => this.failAll(slot, err));
      worker.on('exit', (code) => {
        if (!this.closed) this.failAll(slot, new OpenemError('INTERNAL', `block codec worker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  private settle(slot: Slot, reply: CodecReply): void {
    const p = slot.pending.get(reply.id);
    if (!p) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) slot.worker.unref();
    if (reply.type === 'error') p.reject(new OpenemError('INTERNAL', `block codec worker: ${reply.message}`));
    else p.resolve(reply);
  }

  private failAll(slot: Slot, err: unknown): void {
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
  }

  private run(job: JobWithoutId, transfer: ArrayBuffer[] = []): Promise<CodecReply> {
    if (this.closed) return Promise.reject(new OpenemError('UNAVAILABLE', 'repository is closed'));
    if (this.slots.length === 0) this.start();
    // The least busy worker; among equally busy ones, the one after the last chosen, so that ties do not all
    // fall to the first worker (they did: one of two workers decoded about 70% of a full restore).
    const n = this.slots.length;
    let slot = this.slots[(this.lastSlot + 1) % n];
    for (let k = 2; k <= n; k++) {
      const s = this.slots[(this.lastSlot + k) % n];
      if (s.pending.size < slot.pending.size) slot = s;
    }
    this.lastSlot = this.slots.indexOf(slot);
    slot.sent++;
    const id = this.nextId++;
    return new Promise<CodecReply>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...job, id }, transfer);
    });
  }

  /** Block hash (hex) of each range, read in place; null for all-zero ranges when `detectZero`. */
  async hash(buf: SharedArrayBuffer | ArrayBuffer, ranges: Range[], detectZero: boolean): Promise<(string | null)[]> {
    const r = await this.run({ type: 'hash', algorithm: this.algorithm, buf, ranges, detectZero });
    if (r.type !== 'hash') throw new OpenemError('INTERNAL', `unexpected codec reply ${r.type}`);
    return r.hashes;
  }

  /**
   * Reads [offset, offset+length) of the open file `fd` (pread: its position is not used) on a worker and hashes it
   * block by block (null for all-zero blocks). The caller keeps `fd` open until the promise settles.
   */
  async hashFile(fd: number, offset: number, length: number, blockSize: number): Promise<(string | null)[]> {
    const r = await this.run({ type: 'hash-file', algorithm: this.algorithm, fd, offset, length, blockSize });
    if (r.type !== 'hash') throw new OpenemError('INTERNAL', `unexpected codec reply ${r.type}`);
    return r.hashes;
  }

  /**
   * Each range compressed with zstd at `level` in place: a compressed block's bytes replace the start of its range
   * in `buf`; a block that does not compress is left as it is, to be stored raw.
   */
  async compress(buf: SharedArrayBuffer, ranges: Range[], level: number): Promise<EncodedBlock[]> {
    const r = await this.run({ type: 'compress', buf, ranges, level });
    if (r.type !== 'compress') throw new OpenemError('INTERNAL', `unexpected codec reply ${r.type}`);
    return r.blocks;
  }

  /**
   * Decompresses and verifies the blobs in `buf` (which is transferred: the caller must not use it afterwards).
   * Throws BlockDecodeError naming the first bad entry. With `ownBlocks`, no two blocks share an ArrayBuffer (see DecodeJob).
   */
  async decode(buf: ArrayBuffer, entries: DecodeEntry[], ownBlocks = false): Promise<Buffer[]> {
    const r = await this.run({ type: 'decode', algorithm: this.algorithm, buf, entries, ownBlocks }, [buf]);
    if (r.type === 'decode-failed') throw new BlockDecodeError(r.entry, r.reason);
    if (r.type !== 'decode') throw new OpenemError('INTERNAL', `unexpected codec reply ${r.type}`);
    return r.blocks.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }

  /**
   * Like `decode`, but only proves that every blob decompresses to its hash: the blocks stay in the worker
   * and are dropped there, so a verification pass over a whole disk holds no more than the ranges in flight.
   */
  async verify(buf: ArrayBuffer, entries: DecodeEntry[]): Promise<void> {
    const r = await this.run({ type: 'decode', algorithm: this.algorithm, buf, entries, verifyOnly: true }, [buf]);
    if (r.type === 'decode-failed') throw new BlockDecodeError(r.entry, r.reason);
    if (r.type !== 'verified') throw new OpenemError('INTERNAL', `unexpected codec reply ${r.type}`);
  }

  /**
   * Like `decode`, but each block is decoded into `into` at entry index x `slot` (shared memory the caller reuses):
   * nothing is allocated per block and nothing comes back but the verdict. The stored bytes are the first `length`
   * of `buf`: shared memory the caller reuses too (read in place, not copied), or an ArrayBuffer (transferred).
   * Throws BlockDecodeError.
   */
  async decodeInto(buf: ArrayBuffer | SharedArrayBuffer, length: number, entries: DecodeEntry[], into: SharedArrayBuffer, slot: number): Promise<void> {
    const transfer = buf instanceof ArrayBuffer ? [buf] : [];
    const r = await this.run({ type: 'decode', algorithm: this.algorithm, buf, length, entries, into: { buf: into, slot } }, transfer);
    if (r.type === 'decode-failed') throw new BlockDecodeError(r.entry, r.reason);
    if (r.type !== 'verified') throw new OpenemError('INTERNAL', `unexpected codec reply ${r.type}`);
  }

  /**
   * Like `decodeInto`, but the worker reads the stored range itself from the local pack file `path`, from `offset`
   * (the entries' offsets count from there). Throws BlockDecodeError, or NOT_FOUND when the file does not exist.
   */
  async decodeFileInto(path: string, offset: number, entries: DecodeEntry[], into: SharedArrayBuffer, slot: number): Promise<void> {
    const r = await this.run({ type: 'decode-file', algorithm: this.algorithm, path, offset, entries, into: { buf: into, slot } });
    if (r.type === 'decode-failed') throw new BlockDecodeError(r.entry, r.reason);
    if (r.type === 'missing') throw notFound(r.message);
    if (r.type !== 'verified') throw new OpenemError('INTERNAL', `unexpected codec reply ${r.type}`);
  }

  /**
   * Stops the workers, then fails the jobs they had not answered. In that order because a job may be reading a
   * descriptor its caller owns (hashFile): the caller closes it once the job's promise settles, and a descriptor
   * closed while a worker's read of it still runs may be reused meanwhile by another open. A worker's thread ends
   * only once the job it is in returns (termination stops its JavaScript, not a blocking read), so after
   * `terminate` no job of this pool touches a descriptor any more.
   */
  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    this.closed = true;
    // Settled, not all: the unanswered jobs are failed whatever a worker's end says.
    await Promise.allSettled(this.slots.map((s) => s.worker.terminate()));
    for (const s of this.slots) this.failAll(s, new OpenemError('UNAVAILABLE', 'repository is closed'));
  }
}

/**
 * From dist/ the worker is plain JS. Under tsx (tests, scripts) this module and its worker are .ts files;
 * Node 20 ignores `--import` in a worker's execArgv, so a tiny bootstrap registers tsx in the worker first.
 */
function startCodecWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./block-codec-worker.js', import.meta.url));
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const workerUrl = new URL('./block-codec-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(workerUrl)}); });`;
  return new Worker(bootstrap, { eval: true });
}

/** A buffer's own ArrayBuffer when it spans all of it (safe to transfer), else a copy. */
export function transferableCopy(b: Buffer): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) return b.buffer;
  const out = new ArrayBuffer(b.length);
  new Uint8Array(out).set(b);
  return out;
}
