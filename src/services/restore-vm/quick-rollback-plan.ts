import type { BlockSource } from '../../disks/block-source.js';
import type { BlockFetch, DiskManifest, Repository } from '../../repository/repository.js';
import type { DiskRestorePlan } from './disk-restore-plan.js';
import { conflict } from '../../errors.js';

/**
 * QuickRollback (seed 001): read the VM's current disk sequentially, hash each 1 MiB block on the worker
 * pool (all-zero blocks are recognised and not hashed) and keep only the blocks whose hash differs from
 * the restore point's. Openem has no changed-block tracking, so reading the whole disk is the least it can
 * do (the bench compares this with `cat`). `onDiffers` hears of each block to fetch as soon as it is known,
 * so its fetch can run while the scan goes on (rollback-prefetch.ts).
 */
export async function quickRollbackPlan(
  repository: Repository,
  current: BlockSource,
  disk: DiskManifest,
  options: { signal?: AbortSignal; onScanned?: (bytes: number) => void; onDiffers?: (block: BlockFetch) => void } = {},
): Promise<DiskRestorePlan> {
  if (current.size !== disk.size) throw conflict(`disk ${disk.name} is ${current.size} bytes now but ${disk.size} in the restore point`);
  const plan: DiskRestorePlan = { diskName: disk.name, size: disk.size, fetch: [], zero: [], unchanged: 0, scannedBytes: 0 };
  const seen = new Uint8Array(disk.blocks.length);
  const decide = (index: number, currentHash: string | null) => {
    const wanted = disk.blocks[index];
    if (wanted === currentHash) plan.unchanged++;
    else if (wanted === null) plan.zero.push(index);
    else {
      const block = { index, hash: wanted };
      plan.fetch.push(block);
      options.onDiffers?.(block);
    }
  };

  await repository.hashSource(
    current,
    ({ firstBlock, hashes, bytes }) => {
      for (let i = 0; i < hashes.length; i++) {
        seen[firstBlock + i] = 1;
        decide(firstBlock + i, hashes[i]);
      }
      plan.scannedBytes += bytes;
      options.onScanned?.(bytes);
    },
    { signal: options.signal },
  );
  // Holes were not read, but they count as done for the session's progress.
  options.onScanned?.(disk.size - plan.scannedBytes);
  // Blocks outside the source's allocated extents read as zeros.
  for (let index = 0; index < disk.blocks.length; index++) if (!seen[index]) decide(index, null);
  plan.fetch.sort((a, b) => a.index - b.index);
  plan.zero.sort((a, b) => a - b);
  return plan;
}
