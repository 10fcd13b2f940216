import { open, type FileHandle } from 'node:fs/promises';
import { BLOCK_SIZE, type BlockSource, type Extent, type LocalFileView } from '../disks/block-source.js';
import type { Range } from './block-codec-messages.js';
import type { BlockCodecPool } from './block-codec-pool.js';
import type { HashedBlocks } from './repository.js';
import { allocatedBlockRanges, SourceChunkReader } from './source-chunk-reader.js';

/** Blocks per job a worker reads and hashes from a local file itself: a lane reports, and checks for abort, once per job. */
const FILE_JOB_BLOCKS = 16;
/** Jobs queued per worker, so a worker never waits for the main thread between two jobs. */
const JOBS_PER_WORKER = 2;
/**
 * Holes between two extents up to this many blocks are read (as zeros, from the page cache) instead of skipped: a
 * jump ahead in a file restarts the kernel's read-ahead of that open file from a small window of small pages,
 * which on the bench disk (a hole every fourth block) halved the size of the device's reads.
 */
const READ_THROUGH_HOLE_BLOCKS = 4;

/**
 * Repository.hashSource: every allocated block of `source` (its `allocatedExtents`: holes need no reading, they
 * are zero blocks, which the caller assumes for every block not reported) hashed with the repository's block
 * hash, null for all-zero blocks. A source that is a local file (`localFile`) is read by the workers themselves,
 * each piece hashed while it is still in the reading core's cache (no buffer crosses threads; measured 1.6x
 * faster than the ring on a dense 1 GiB image here); any other source is read sequentially into the shared
 * chunk ring and hashed in place on the workers, as a backup does.
 */
export async function hashSource(pool: BlockCodecPool, source: BlockSource, onHashed: (run: HashedBlocks) => void, signal?: AbortSignal): Promise<void> {
  if (source.localFile) return hashLocalFile(pool, source, source.localFile, onHashed, signal);
  return hashThroughChunkRing(pool, source, onHashed, signal);
}

interface FileJob {
  firstBlock: number;
  offset: number;
  length: number;
}

/**
 * A local file is hashed in lanes, one open file each (and so one read-ahead state each in the kernel): a lane's jobs
 * are one contiguous stretch of the file, read in order, so each open file sees a sequential stream and the kernel
 * keeps its full read-ahead window in flight ahead of the hashing, as for `cat`. A lane that runs out of work takes
 * the second half of the longest lane's remaining stretch (one new stream), so no worker idles at the end.
 */
async function hashLocalFile(pool: BlockCodecPool, source: BlockSource, file: LocalFileView, onHashed: (run: HashedBlocks) => void, signal?: AbortSignal): Promise<void> {
  const jobs = fileJobs(source.size, await source.allocatedExtents());
  const lanes = contiguousLanes(jobs, Math.min(jobs.length, pool.size * JOBS_PER_WORKER));
  const handles: FileHandle[] = [];
  try {
    for (let i = 0; i < lanes.length; i++) handles.push(await open(file.path, 'r'));
    const lane = async (own: FileJob[], fd: number): Promise<void> => {
      for (;;) {
        if (own.length === 0) own.push(...stealHalf(lanes));
        const job = own.shift();
        if (!job) return;
        signal?.throwIfAborted();
        const hashes = await pool.hashFile(fd, file.offset + job.offset, job.length, BLOCK_SIZE);
        onHashed({ firstBlock: job.firstBlock, hashes, bytes: job.length });
      }
    };
    await settleAll(lanes.map((own, i) => lane(own, handles[i].fd)));
  } finally {
    await Promise.all(handles.map((h) => h.close()));
  }
}

/** The jobs over the allocated blocks in file order, holes of up to READ_THROUGH_HOLE_BLOCKS included. */
function fileJobs(size: number, extents: Extent[]): FileJob[] {
  const spans: [number, number][] = [];
  for (const [start, end] of allocatedBlockRanges(size, extents)) {
    const last = spans[spans.length - 1];
    if (last && start - last[1] <= READ_THROUGH_HOLE_BLOCKS) last[1] = end;
    else spans.push([start, end]);
  }
  const jobs: FileJob[] = [];
  for (const [start, end] of spans) {
    for (let first = start; first < end; first += FILE_JOB_BLOCKS) {
      const offset = first * BLOCK_SIZE;
      jobs.push({ firstBlock: first, offset, length: Math.min(size, Math.min(end, first + FILE_JOB_BLOCKS) * BLOCK_SIZE) - offset });
    }
  }
  return jobs;
}

/** `jobs` cut into `count` contiguous stretches of (nearly) equal numbers of jobs. */
function contiguousLanes(jobs: FileJob[], count: number): FileJob[][] {
  return Array.from({ length: count }, (_, i) => jobs.slice(Math.floor((i * jobs.length) / count), Math.floor(((i + 1) * jobs.length) / count)));
}

/** The second half of the longest lane's remaining jobs, taken from it (none when no lane has two left). */
function stealHalf(lanes: FileJob[][]): FileJob[] {
  let longest = lanes[0];
  for (const l of lanes) if (l.length > longest.length) longest = l;
  if (!longest || longest.length < 2) return [];
  return longest.splice(Math.ceil(longest.length / 2));
}

async function hashThroughChunkRing(pool: BlockCodecPool, source: BlockSource, onHashed: (run: HashedBlocks) => void, signal?: AbortSignal): Promise<void> {
  const reader = new SourceChunkReader(source, pool.size * JOBS_PER_WORKER + 2);
  await reader.forEachChunk(async (chunk) => {
    const ranges: Range[] = [];
    for (let i = 0; i < chunk.blockCount; i++) ranges.push([i * BLOCK_SIZE, Math.min(BLOCK_SIZE, chunk.byteLength - i * BLOCK_SIZE)]);
    const hashes = await pool.hash(chunk.buf, ranges, true);
    onHashed({ firstBlock: chunk.firstBlock, hashes, bytes: chunk.byteLength });
  }, signal);
}

/** Waits for every promise and then throws the first failure, so no job is left running behind an error. */
async function settleAll(promises: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
