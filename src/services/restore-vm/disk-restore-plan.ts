import { BLOCK_SIZE, type Extent } from '../../disks/block-source.js';
import type { BlockFetch, DiskManifest } from '../../repository/repository.js';

/** What restoring one disk will do, block by block (ARCHITECTURE.md "VM restore = plan per disk"). */
export interface DiskRestorePlan {
  diskName: string;
  size: number;
  /** Blocks fetched from the repository and written at their offsets. */
  fetch: BlockFetch[];
  /** Blocks that are all zeros in the restore point and must become holes in the target. */
  zero: number[];
  /** Blocks left as they are: already equal (QuickRollback) or already holes (a fresh disk). */
  unchanged: number;
  /** Bytes read from the target to decide (QuickRollback only). */
  scannedBytes: number;
  /**
   * Blocks of `fetch` already fetched and verified while the target was scanned (QuickRollback), by block
   * index: written from memory instead of fetched again. applyDiskPlan empties it as it writes.
   */
  held?: Map<number, Buffer>;
}

/** Length of block `index` of a disk of `size` bytes (the last block may be short). */
export function blockLength(size: number, index: number): number {
  return Math.min(BLOCK_SIZE, size - index * BLOCK_SIZE);
}

/**
 * Every block of the restore point's disk. A `fresh` target (a new sparse image) is all holes already, so
 * its zero blocks need nothing; an `existing` target must have them punched.
 */
export function fullRestorePlan(disk: DiskManifest, target: 'fresh' | 'existing'): DiskRestorePlan {
  const plan: DiskRestorePlan = { diskName: disk.name, size: disk.size, fetch: [], zero: [], unchanged: 0, scannedBytes: 0 };
  disk.blocks.forEach((hash, index) => {
    if (hash !== null) plan.fetch.push({ index, hash });
    else if (target === 'existing') plan.zero.push(index);
    else plan.unchanged++;
  });
  return plan;
}

/** Bytes the plan will fetch and write. */
export function planFetchBytes(plan: DiskRestorePlan): number {
  let n = 0;
  for (const b of plan.fetch) n += blockLength(plan.size, b.index);
  return n;
}

/**
 * The plan without the zero blocks the target holds no data in (outside its allocated extents, which may
 * over-cover but never miss data): those read as zeros already, so punching them would only cost (one
 * fallocate each on a local disk). They count as unchanged. Read the extents with the VM off.
 */
export function withoutExistingHoles(plan: DiskRestorePlan, targetExtents: Extent[]): DiskRestorePlan {
  if (plan.zero.length === 0) return plan;
  const extents = [...targetExtents].sort((a, b) => a.offset - b.offset);
  const zero: number[] = [];
  let e = 0;
  for (const index of plan.zero) {
    const start = index * BLOCK_SIZE;
    const end = start + blockLength(plan.size, index);
    while (e < extents.length && extents[e].offset + extents[e].length <= start) e++;
    if (e < extents.length && extents[e].offset < end) zero.push(index);
  }
  return { ...plan, zero, unchanged: plan.unchanged + plan.zero.length - zero.length };
}
