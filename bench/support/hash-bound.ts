/**
 * The cheapest hash comparison of a local disk image on this machine (issue #11 goal 2): what QuickRollback's scan
 * would cost with no repository, no pool, no plan and no main-thread work at all. `threads` workers each read one
 * contiguous share of the file with pread into one reused buffer (as the codec workers do) and BLAKE3-hash each
 * non-zero block; and BLAKE3 alone over a cached block, per core. Both run in bench/hash-bound-worker.mjs.
 */
import { Worker } from 'node:worker_threads';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';

export interface BoundRun {
  /** Wall seconds from the first job sent to the last reply. */
  wallS: number;
  /** CPU seconds of each worker thread over its job. */
  workerCpuS: number[];
  /** Bytes hashed (all-zero blocks are checked, not hashed). */
  hashed: number;
}

interface WorkerReply {
  hashed: number;
  wallS: number;
  cpuS: number;
}

async function onWorkers(jobs: object[]): Promise<BoundRun> {
  const workers = jobs.map(() => new Worker(new URL('./hash-bound-worker.mjs', import.meta.url), { workerData: { resolveFrom: import.meta.url } }));
  try {
    // Started and idle first, so the figure holds no isolate start-up.
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => (w.once('online', resolve), w.once('error', reject)))));
    const t0 = performance.now();
    const replies = await Promise.all(
      workers.map((w, i) => new Promise<WorkerReply>((resolve, reject) => (w.once('message', resolve), w.once('error', reject), w.postMessage(jobs[i])))),
    );
    return { wallS: (performance.now() - t0) / 1000, workerCpuS: replies.map((r) => r.cpuS), hashed: replies.reduce((n, r) => n + r.hashed, 0) };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** `path`'s first `length` bytes read and hashed on `threads` workers, each a contiguous share in 4 MiB preads. */
export function readAndHashBound(path: string, length: number, threads: number, readBytes = 4 * 1024 * 1024): Promise<BoundRun> {
  const blocks = Math.ceil(length / BLOCK_SIZE);
  const jobs = Array.from({ length: threads }, (_, i) => {
    const first = Math.floor((i * blocks) / threads) * BLOCK_SIZE;
    const end = Math.min(length, Math.floor(((i + 1) * blocks) / threads) * BLOCK_SIZE);
    return { type: 'read-and-hash', path, offset: first, length: end - first, readBytes, blockSize: BLOCK_SIZE };
  });
  return onWorkers(jobs);
}

/** BLAKE3 of one cached block, `bytes` worth, on one worker: the hash's own rate on one core, in GiB per CPU-second. */
export async function hashOnlyGiBPerCpuS(bytes = 2 * 1024 ** 3): Promise<number> {
  const r = await onWorkers([{ type: 'hash-only', bytes, blockSize: BLOCK_SIZE }]);
  return r.hashed / 1024 ** 3 / r.workerCpuS[0];
}
