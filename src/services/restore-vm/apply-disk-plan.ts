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

/** Positional writes of held blocks queued on the I/O threads at once. */
const HELD_WRITES_IN_FLIGHT = 8;

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

/** Writes the blocks a QuickRollback fetched during its scan, a few at a time, dropping each once written. */
async function writeHeld(writer: DiskWriter, held: Map<number, Buffer>, wrote: (data: Buffer) => void, signal?: AbortSignal): Promise<void> {
  const indexes = [...held.keys()].sort((a, b) => a - b);
  const lane = async (): Promise<void> => {
    for (let index = indexes.shift(); index !== undefined; index = indexes.shift()) {
      signal?.throwIfAborted();
      const data = held.get(index)!;
      await writer.write(index * BLOCK_SIZE, data);
      held.delete(index);
      wrote(data);
    }
  };
  await Promise.all(Array.from({ length: HELD_WRITES_IN_FLIGHT }, lane));
}

/**
 * Carries out a disk plan: zero blocks become holes, the rest is fetched through the repository
 * (planned by pack, several reads in flight, every block verified against its hash before it gets here)
 * and written at its offset, in whatever order it arrives; blocks the plan already holds (QuickRollback's
 * prefetch) are written from memory beside those fetches. Ends with the data made durable.
 */
export async function applyDiskPlan(
  repository: Repository,
  writer: DiskWriter,
  plan: DiskRestorePlan,
  options: { signal?: AbortSignal; onWritten?: (bytes: number) => void; alignedBlocks?: boolean } = {},
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
  const wrote = (data: Buffer) => {
    counters.blocksFetched++;
    counters.bytesFetched += data.length;
    counters.blocksWritten++;
    counters.bytesWritten += data.length;
    options.onWritten?.(data.length);
  };
  const held = plan.held;
  const rest = held ? plan.fetch.filter((b) => !held.has(b.index)) : plan.fetch;
  // Both run to their end before a failure is thrown, so nothing writes behind it.
  const settled = await Promise.allSettled([
    held ? writeHeld(writer, held, wrote, options.signal) : undefined,
    repository.fetchBlocks(
      rest,
      async (index, data) => {
        await writer.write(index * BLOCK_SIZE, data);
        wrote(data);
      },
      { signal: options.signal, alignedBlocks: options.alignedBlocks },
    ),
  ]);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
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
