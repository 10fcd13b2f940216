import type { BlockFetch, Repository } from '../../repository/repository.js';
import { blockLength } from './disk-restore-plan.js';

/** Differing blocks fetched together: one pack-read plan per batch, so neighbours in a pack share a read. */
const BATCH_BLOCKS = 16;
/**
 * Pack ranges a batch decodes at once, each lane in 16 MiB of its own. bench/kvm's QuickRollback, rounds alternating
 * in one run: 4 lanes end the fetch at ~87 ms, 8 at ~71, and both rollbacks take 0.20 s (the writer's opening is
 * what the writes wait for), so 4: half the memory.
 */
const PREFETCH_READS = 4;
/** Decoded blocks a QuickRollback keeps for its write phase, over all its disks; the rest is verified and fetched again. */
export const DEFAULT_HOLD_BYTES = 64 * 1024 * 1024;

/** What a QuickRollback may still keep in memory, shared by the prefetches of its disks. */
export interface HoldBudget {
  bytes: number;
}

/**
 * Issue #11 goal 2: QuickRollback fetches the blocks that differ while the scan that finds them is still
 * reading the disk, instead of after it. A fetched block has been decompressed and checked against its hash
 * (Repository.fetchBlocks), which is the verification issue #9 §5 asks for before the first write; blocks that
 * fit the hold budget are kept for the write phase, the others are only verified (fetched again when written).
 * Nothing is written here: the VM changes only once every block of every disk is proven good.
 */
export class RollbackPrefetch {
  /** Verified blocks by disk block index, written from memory by applyDiskPlan. */
  readonly held = new Map<number, Buffer>();
  /** Bytes of the blocks verified so far (held or not). */
  verifiedBytes = 0;
  private pending: BlockFetch[] = [];
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly repository: Repository,
    private readonly diskSize: number,
    private readonly budget: HoldBudget,
    private readonly signal?: AbortSignal,
  ) {}

  /** A block the scan found to differ; its fetch starts once a batch is full (or at `finish`). */
  add(block: BlockFetch): void {
    this.pending.push(block);
    if (this.pending.length >= BATCH_BLOCKS) this.flush();
  }

  /**
   * Blocks of a plan known whole before anything is fetched (changed-block tracking: no scan runs beside): fetched
   * as one pack-read plan, its reads decoded on every core at once.
   */
  addAll(blocks: readonly BlockFetch[]): void {
    this.flush();
    this.pending = [...blocks];
    this.flush();
  }

  /** Waits for every block added to be verified; throws the first failure (a CORRUPT block names its pack). */
  async finish(): Promise<void> {
    this.flush();
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Waits for the fetches in flight without throwing, and drops what was held (the scan failed). */
  async abandon(): Promise<void> {
    this.pending = [];
    await this.chain;
    this.release();
  }

  /** Gives the held blocks' memory back to the budget. */
  release(): void {
    for (const b of this.held.values()) this.budget.bytes += b.length;
    this.held.clear();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    // One batch at a time: the fetch runs beside the scan, not ahead of it on every core.
    this.chain = this.chain.then(() => (this.failure === undefined ? this.fetch(batch) : undefined)).catch((e) => {
      this.failure ??= e;
    });
  }

  private async fetch(batch: BlockFetch[]): Promise<void> {
    const keep: BlockFetch[] = [];
    const verifyOnly: BlockFetch[] = [];
    for (const b of batch) {
      const length = blockLength(this.diskSize, b.index);
      if (this.budget.bytes >= length) {
        this.budget.bytes -= length;
        keep.push(b);
      } else verifyOnly.push(b);
    }
    if (keep.length > 0) {
      // One allocation holds the batch: the blocks are decoded on the workers into their own reused memory (each
      // reads its pack range itself) and copied here, instead of a buffer per range and per block.
      const at = new Map<number, number>();
      let bytes = 0;
      for (const b of keep) {
        at.set(b.index, bytes);
        bytes += blockLength(this.diskSize, b.index);
      }
      const arena = Buffer.allocUnsafeSlow(bytes);
      await this.repository.fetchBlocks(keep, async (index, data) => {
        const from = at.get(index)!;
        data.copy(arena, from);
        this.held.set(index, arena.subarray(from, from + data.length));
        this.verifiedBytes += data.length;
      }, { signal: this.signal, alignedBlocks: true, concurrency: PREFETCH_READS });
    }
    if (verifyOnly.length > 0) {
      await this.repository.verifyBlocks(verifyOnly, { signal: this.signal });
      for (const b of verifyOnly) this.verifiedBytes += blockLength(this.diskSize, b.index);
    }
  }
}
