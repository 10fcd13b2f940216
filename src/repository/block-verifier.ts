import type { BlobStore } from './blob-store.js';
import type { BlockCodecPool } from './block-codec-pool.js';
import { DEFAULT_CONCURRENCY, forEachPackRead, locateBlocks, planPackReads, verifyPackRange } from './block-fetcher.js';
import type { PackIndex } from './pack-index.js';
import type { BlockFetch, FetchOptions } from './repository.js';

/**
 * Repository.verifyBlocks: the pass an in-place restore runs before its first write (issue #9 §5). Each
 * distinct block is looked up in the index, and each pack range that holds wanted blocks is read once,
 * in the same plan the write pass will use; the blocks are decompressed and hashed on the workers and
 * dropped there. Fails with a CORRUPT error naming the pack at the first block that is missing or bad.
 */
export async function verifyBlocks(store: BlobStore, index: PackIndex, pool: BlockCodecPool, wanted: BlockFetch[], options: FetchOptions = {}): Promise<void> {
  const { signal } = options;
  signal?.throwIfAborted();
  const copies = new Map<string, number>();
  for (const w of wanted) copies.set(w.hash, (copies.get(w.hash) ?? 0) + 1);
  const reads = planPackReads(await locateBlocks(index, copies.keys()));
  let blocksDone = 0;
  let bytesDone = 0;
  await forEachPackRead(reads, options.concurrency ?? DEFAULT_CONCURRENCY, signal, async (read) => {
    await verifyPackRange(store, pool, read);
    for (const b of read.blocks) {
      const n = copies.get(b.hash)!;
      blocksDone += n;
      bytesDone += n * b.rawLength;
    }
    options.onProgress?.(blocksDone, bytesDone);
  });
}
