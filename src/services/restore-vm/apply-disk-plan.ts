import { BLOCK_SIZE } from '../../disks/block-source.js';
import type { DiskWriter } from '../../platform/platform.js';
import type { Repository } from '../../repository/repository.js';
import { blockLength, type DiskRestorePlan } from './disk-restore-plan.js';
import { conflict } from '../../errors.js';

/** What one disk's restore did; logged in the session so a user (and a test) can see the work saved. */
export interface DiskRestoreCounters {
  blocksFetched: number;
  bytesFetched: number;
  blocksWritten: number;
  bytesWritten: number;
  blocksZeroed: number;
  blocksUnchanged: number;
  bytesScanned: number;
}

/** Consecutive block indexes as byte ranges, so adjacent holes are punched in one call. */
function zeroRanges(size: number, blocks: number[]): { offset: number; length: number }[] {
  const out: { offset: number; length: number }[] = [];
  for (const index of blocks) {
    const offset = index * BLOCK_SIZE;
    const length = blockLength(size, index);
    const last = out[out.length - 1];
    if (last && last.offset + last.length === offset) last.length += length;
    else out.push({ offset, length });
  }
  return out;
}

/**
 * Carries out a disk plan: zero blocks become holes, the rest is fetched through the repository
 * (planned by pack, several reads in flight, every block verified against its hash before it gets here)
 * and written at its offset, in whatever order it arrives. Ends with the data made durable.
 */
export async function applyDiskPlan(
  repository: Repository,
  writer: DiskWriter,
  plan: DiskRestorePlan,
  options: { signal?: AbortSignal; onWritten?: (bytes: number) => void } = {},
): Promise<DiskRestoreCounters> {
  const counters: DiskRestoreCounters = {
    blocksFetched: 0,
    bytesFetched: 0,
    blocksWritten: 0,
    bytesWritten: 0,
    blocksZeroed: 0,
    blocksUnchanged: plan.unchanged,
    bytesScanned: plan.scannedBytes,
  };
  if (writer.size !== plan.size) throw conflict(`disk ${plan.diskName} is ${writer.size} bytes but the restore point's is ${plan.size}`);
  for (const r of zeroRanges(plan.size, plan.zero)) {
    options.signal?.throwIfAborted();
    await writer.zero(r.offset, r.length);
  }
  counters.blocksZeroed = plan.zero.length;
  await repository.fetchBlocks(
    plan.fetch,
    async (index, data) => {
      await writer.write(index * BLOCK_SIZE, data);
      counters.blocksFetched++;
      counters.bytesFetched += data.length;
      counters.blocksWritten++;
      counters.bytesWritten += data.length;
      options.onWritten?.(data.length);
    },
    { signal: options.signal },
  );
  options.signal?.throwIfAborted();
  await writer.sync();
  return counters;
}

const MIB = 1024 * 1024;

/** One log line per disk; tests read the counters back from the session log. */
export function describeCounters(diskName: string, c: DiskRestoreCounters): string {
  return (
    `Disk ${diskName}: fetched ${c.blocksFetched} blocks (${(c.bytesFetched / MIB).toFixed(1)} MiB) from the repository, ` +
    `wrote ${c.blocksWritten} blocks, zeroed ${c.blocksZeroed} blocks, left ${c.blocksUnchanged} blocks unchanged` +
    (c.bytesScanned ? `, compared ${(c.bytesScanned / MIB).toFixed(1)} MiB of the current disk` : '')
  );
}
