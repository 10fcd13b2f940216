import { BLOCK_SIZE, type BlockSource } from '../../disks/block-source.js';
import type { DiskManifest, Repository } from '../../repository/repository.js';
import { SourceChunkReader, type SourceChunk } from '../../repository/source-chunk-reader.js';
import { blockLength, type DiskRestorePlan } from './disk-restore-plan.js';

const ZERO_BLOCK = Buffer.alloc(BLOCK_SIZE);
/** Chunks read ahead of hashing: reading stays sequential while the worker pool hashes what was read. */
const RING = 4;
const HASHING_IN_FLIGHT = RING - 1;

/**
 * QuickRollback (seed 001): read the VM's current disk sequentially, hash each 1 MiB block on the worker
 * pool and keep only the blocks whose hash differs from the restore point's. Openem has no changed-block
 * tracking, so reading the whole disk is the least it can do (the bench compares this with `cat`).
 */
export async function quickRollbackPlan(
  repository: Repository,
  current: BlockSource,
  disk: DiskManifest,
  options: { signal?: AbortSignal; onScanned?: (bytes: number) => void } = {},
): Promise<DiskRestorePlan> {
  if (current.size !== disk.size) throw new Error(`disk ${disk.name} is ${current.size} bytes now but ${disk.size} in the restore point`);
  const plan: DiskRestorePlan = { diskName: disk.name, size: disk.size, fetch: [], zero: [], unchanged: 0, scannedBytes: 0 };
  const reader = new SourceChunkReader(current, RING);
  const seen = new Uint8Array(disk.blocks.length);
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const compare = async (chunk: SourceChunk) => {
    const view = Buffer.from(chunk.buf, 0, chunk.byteLength);
    const toHash: Buffer[] = [];
    const toHashIndex: number[] = [];
    for (let i = 0; i < chunk.blockCount; i++) {
      const index = chunk.firstBlock + i;
      const block = view.subarray(i * BLOCK_SIZE, i * BLOCK_SIZE + blockLength(disk.size, index));
      seen[index] = 1;
      // An all-zero block needs no hash: the manifest writes null for exactly those.
      if (block.equals(ZERO_BLOCK.subarray(0, block.length))) decide(index, null);
      else {
        toHash.push(block);
        toHashIndex.push(index);
      }
    }
    const hashes = toHash.length ? await repository.hashBlocks(toHash) : [];
    hashes.forEach((h, k) => decide(toHashIndex[k], h));
    plan.scannedBytes += chunk.byteLength;
    options.onScanned?.(chunk.byteLength);
  };
  const decide = (index: number, currentHash: string | null) => {
    const wanted = disk.blocks[index];
    if (wanted === currentHash) plan.unchanged++;
    else if (wanted === null) plan.zero.push(index);
    else plan.fetch.push({ index, hash: wanted });
  };

  for await (const chunk of reader.chunks(options.signal)) {
    const p: Promise<void> = compare(chunk)
      .catch((e) => {
        failure ??= e;
      })
      .finally(() => {
        reader.release(chunk.buf);
        inFlight.delete(p);
      });
    inFlight.add(p);
    if (failure !== undefined) break;
    while (inFlight.size >= HASHING_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  // Blocks outside the source's allocated extents read as zeros.
  for (let index = 0; index < disk.blocks.length; index++) if (!seen[index]) decide(index, null);
  plan.fetch.sort((a, b) => a.index - b.index);
  plan.zero.sort((a, b) => a - b);
  return plan;
}
