import { BLOCK_SIZE, type BlockSource, type LocalFileView } from '../disks/block-source.js';
import type { Range } from './block-codec-messages.js';
import type { BlockCodecPool } from './block-codec-pool.js';
import type { HashedBlocks } from './repository.js';
import { allocatedBlockRanges, SourceChunkReader } from './source-chunk-reader.js';

/** Blocks per job a worker reads and hashes from a local file itself. */
const FILE_JOB_BLOCKS = 16;
/** Jobs queued per worker, so a worker never waits for the main thread between two jobs. */
const JOBS_PER_WORKER = 2;

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

async function hashLocalFile(pool: BlockCodecPool, source: BlockSource, file: LocalFileView, onHashed: (run: HashedBlocks) => void, signal?: AbortSignal): Promise<void> {
  const jobs: { firstBlock: number; offset: number; length: number }[] = [];
  const extents = await source.allocatedExtents();
  for (const [start, end] of allocatedBlockRanges(source.size, extents)) {
    for (let first = start; first < end; first += FILE_JOB_BLOCKS) {
      const offset = first * BLOCK_SIZE;
      const length = Math.min(source.size, Math.min(end, first + FILE_JOB_BLOCKS) * BLOCK_SIZE) - offset;
      jobs.push({ firstBlock: first, offset, length });
    }
  }
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      signal?.throwIfAborted();
      const job = jobs[next++];
      const hashes = await pool.hashFile(file.path, file.offset + job.offset, job.length, BLOCK_SIZE);
      onHashed({ firstBlock: job.firstBlock, hashes, bytes: job.length });
    }
  };
  await settleAll(Array.from({ length: Math.min(jobs.length, pool.size * JOBS_PER_WORKER) }, lane));
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
