import { corrupt, isOpenemError, OpenemError } from '../errors.js';
import { alignedSharedMemory } from '../disks/aligned-memory.js';
import { BLOCK_SIZE } from '../disks/block-source.js';
import type { BlobStore } from './blob-store.js';
import type { DecodeEntry, Range } from './block-codec-messages.js';
import { BlockDecodeError, transferableCopy, type BlockCodecPool } from './block-codec-pool.js';
import type { IndexedBlock, PackIndex } from './pack-index.js';
import { packKey } from './pack-format.js';
import type { BlockFetch, FetchOptions } from './repository.js';

/** Reads closer than this are merged into one ranged read (skipping the gap costs less than a second request). */
const COALESCE_GAP = 256 * 1024;
const MAX_RANGE = 16 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 8;

/** One ranged read of a pack and the blocks it yields. */
export interface PackRead {
  packId: string;
  offset: number;
  length: number;
  blocks: IndexedBlock[];
}

/** Plans reads pack by pack, in offset order, merging neighbours (restic's restorer, STYLE.md), at most `maxBlocks` a read. */
export function planPackReads(wanted: IndexedBlock[], maxBlocks = Infinity): PackRead[] {
  const byPack = new Map<string, IndexedBlock[]>();
  for (const b of wanted) {
    const list = byPack.get(b.packId);
    if (list) list.push(b);
    else byPack.set(b.packId, [b]);
  }
  const reads: PackRead[] = [];
  for (const [packId, list] of byPack) {
    list.sort((a, b) => a.offset - b.offset);
    let cur: PackRead | undefined;
    for (const b of list) {
      const end = b.offset + b.length;
      if (cur && b.offset <= cur.offset + cur.length + COALESCE_GAP && end - cur.offset <= MAX_RANGE && cur.blocks.length < maxBlocks) {
        cur.length = end - cur.offset;
        cur.blocks.push(b);
      } else {
        cur = { packId, offset: b.offset, length: b.length, blocks: [b] };
        reads.push(cur);
      }
    }
  }
  return reads;
}

/** A pack that is gone is named, with the number of blocks wanted from it. */
function namingMissingPack(read: PackRead, e: unknown): unknown {
  if (isOpenemError(e) && e.code === 'NOT_FOUND') return new OpenemError('CORRUPT', `pack ${read.packId} is missing from the repository (${read.blocks.length} needed blocks are in it)`, { cause: e });
  return e;
}

/** The stored bytes of one planned range; a pack that is gone or cannot be read is named. */
async function readRange(store: BlobStore, read: PackRead): Promise<ArrayBuffer> {
  try {
    return transferableCopy(await store.get(packKey(read.packId), { offset: read.offset, length: read.length }));
  } catch (e) {
    throw namingMissingPack(read, e);
  }
}

/**
 * Reads one planned range into a fetch lane's own shared memory (grown to the largest range yet, then reused), so a
 * worker decodes it where it lies: no memory per range (a fresh 16 MiB buffer per range cost page faults, zeroing
 * and main-thread GC: 2-3 of the ~6 CPU-s a 3 GiB restore took). Returns the bytes read (fewer if the pack is short).
 */
async function readRangeInto(store: BlobStore, read: PackRead, lane: { stored?: SharedArrayBuffer }): Promise<number> {
  if (!lane.stored || lane.stored.byteLength < read.length) lane.stored = new SharedArrayBuffer(Math.max(read.length, MAX_RANGE));
  const into = new Uint8Array(lane.stored, 0, read.length);
  const range = { offset: read.offset, length: read.length };
  try {
    if (store.readInto) return await store.readInto(packKey(read.packId), range, into);
    const data = await store.get(packKey(read.packId), range);
    into.set(data);
    return data.length;
  } catch (e) {
    throw namingMissingPack(read, e);
  }
}

function decodeEntries(read: PackRead, slicesOf?: (b: IndexedBlock) => Range[] | undefined): DecodeEntry[] {
  return read.blocks.map((b) => {
    const entry: DecodeEntry = { offset: b.offset - read.offset, length: b.length, rawLength: b.rawLength, compression: b.compression, hash: b.hash };
    const slices = slicesOf?.(b);
    if (slices) entry.slices = slices;
    return entry;
  });
}

/** Runs a codec call on a range's blobs, turning a bad blob into a CORRUPT error that names its pack. */
async function decodeNamingPack<T>(read: PackRead, decode: () => Promise<T>): Promise<T> {
  try {
    return await decode();
  } catch (e) {
    if (e instanceof BlockDecodeError) {
      const b = read.blocks[e.entry];
      throw corrupt(`block ${b.hash} in pack ${read.packId} (offset ${b.offset}, ${b.length} bytes) is corrupt: ${e.reason}`);
    }
    throw e;
  }
}

export interface PackRangeOptions {
  /** Each block in memory of its own (blocks that are kept); else raw blocks may be views into the range. */
  ownBlocks?: boolean;
  /** Pieces ([offset, length]) of a block to return instead of all of it: its entry is the pieces one after another. */
  slicesOf?: (block: IndexedBlock) => Range[] | undefined;
}

/** Reads one planned range and returns its blocks decompressed and verified (on a worker). */
export async function readPackRange(store: BlobStore, pool: BlockCodecPool, read: PackRead, options: PackRangeOptions = {}): Promise<Buffer[]> {
  const data = await readRange(store, read);
  return decodeNamingPack(read, () => pool.decode(data, decodeEntries(read, options.slicesOf), options.ownBlocks));
}

/** Reads one planned range and proves on a worker that each of its blocks decompresses to its hash; keeps nothing. */
export async function verifyPackRange(store: BlobStore, pool: BlockCodecPool, read: PackRead): Promise<void> {
  const data = await readRange(store, read);
  await decodeNamingPack(read, () => pool.verify(data, decodeEntries(read)));
}

/**
 * Runs `each` over the planned reads, `concurrency` at a time, in plan order; stops taking new reads at the
 * first failure (or abort) and rethrows it once the reads in flight are done.
 */
export async function forEachPackRead(reads: PackRead[], concurrency: number, signal: AbortSignal | undefined, each: (read: PackRead) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (next < reads.length && failure === undefined) {
      signal?.throwIfAborted();
      await each(reads[next++]);
    }
  };
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, reads.length)) }, () =>
    lane().catch((e) => {
      failure ??= e;
    }),
  );
  await Promise.all(lanes);
  if (failure !== undefined) throw failure;
}

/** Looks every hash up, refreshing the index once if another process wrote packs since it was loaded. */
export async function locateBlocks(index: PackIndex, hashes: Iterable<string>): Promise<IndexedBlock[]> {
  const out: IndexedBlock[] = [];
  const missing: string[] = [];
  for (const h of hashes) {
    const b = index.get(h);
    if (b) out.push(b);
    else missing.push(h);
  }
  if (missing.length > 0) {
    await index.refresh();
    for (const h of missing) {
      const b = index.get(h);
      if (!b) throw corrupt(`block ${h} is not in the repository index (its pack is missing)`);
      out.push(b);
    }
  }
  return out;
}

/**
 * Decodes one planned range into the lane's aligned slots, verified: a local pack is read by the worker itself
 * (straight into the slots for raw blocks), another store's range into the lane's reused memory first.
 */
async function decodeRangeInto(store: BlobStore, pool: BlockCodecPool, read: PackRead, lane: { arena: SharedArrayBuffer; stored?: SharedArrayBuffer }): Promise<void> {
  const entries = decodeEntries(read);
  const file = store.localFile?.(packKey(read.packId));
  if (file !== undefined) {
    try {
      return await decodeNamingPack(read, () => pool.decodeFileInto(file, read.offset, entries, lane.arena, BLOCK_SIZE));
    } catch (e) {
      throw namingMissingPack(read, e);
    }
  }
  const length = await readRangeInto(store, read, lane);
  await decodeNamingPack(read, () => pool.decodeInto(lane.stored!, length, entries, lane.arena, BLOCK_SIZE));
}

/** Blocks one read decodes into its lane's aligned memory (`alignedBlocks`): 16 MiB a lane. */
const ALIGNED_READ_BLOCKS = 16;

/**
 * Fetches with `alignedBlocks`: each lane decodes its range on a worker straight into page-aligned shared memory of
 * its own, one block-sized slot per block, and hands views of the slots to `write`; the slots are reused once the
 * range's writes have settled. Nothing is allocated or copied per block on the main thread.
 */
async function fetchIntoAlignedMemory(
  store: BlobStore,
  pool: BlockCodecPool,
  reads: PackRead[],
  indexesByHash: Map<string, number[]>,
  write: (index: number, data: Buffer) => Promise<void>,
  options: FetchOptions,
): Promise<void> {
  const { signal } = options;
  const concurrency = Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, reads.length));
  // Each lane's memory: the stored range as read, and the aligned slots its blocks decode into.
  const lanes = Array.from({ length: concurrency }, () => ({ arena: alignedSharedMemory(ALIGNED_READ_BLOCKS * BLOCK_SIZE), stored: undefined as SharedArrayBuffer | undefined }));
  let blocksDone = 0;
  let bytesDone = 0;
  await forEachPackRead(reads, concurrency, signal, async (read) => {
    const lane = lanes.pop()!;
    const { arena } = lane;
    try {
      await decodeRangeInto(store, pool, read, lane);
      signal?.throwIfAborted();
      const writes: Promise<void>[] = [];
      read.blocks.forEach((b, i) => {
        const view = Buffer.from(arena, i * BLOCK_SIZE, b.rawLength);
        for (const at of indexesByHash.get(b.hash)!) {
          writes.push(write(at, view));
          blocksDone++;
          bytesDone += b.rawLength;
        }
      });
      // Every write settles before the slots are reused (a failed one is thrown after the others are done).
      const settled = await Promise.allSettled(writes);
      for (const r of settled) if (r.status === 'rejected') throw r.reason;
    } finally {
      lanes.push(lane);
    }
    options.onProgress?.(blocksDone, bytesDone);
  });
}

/** Repository.fetchBlocks: see its JSDoc in repository.ts. */
export async function fetchBlocks(
  store: BlobStore,
  index: PackIndex,
  pool: BlockCodecPool,
  wanted: BlockFetch[],
  write: (index: number, data: Buffer) => Promise<void>,
  options: FetchOptions = {},
): Promise<void> {
  const { signal } = options;
  signal?.throwIfAborted();
  const indexesByHash = new Map<string, number[]>();
  for (const w of wanted) {
    const list = indexesByHash.get(w.hash);
    if (list) list.push(w.index);
    else indexesByHash.set(w.hash, [w.index]);
  }
  if (options.alignedBlocks) {
    const reads = planPackReads(await locateBlocks(index, indexesByHash.keys()), ALIGNED_READ_BLOCKS);
    return fetchIntoAlignedMemory(store, pool, reads, indexesByHash, write, options);
  }
  const reads = planPackReads(await locateBlocks(index, indexesByHash.keys()));
  let blocksDone = 0;
  let bytesDone = 0;
  await forEachPackRead(reads, options.concurrency ?? DEFAULT_CONCURRENCY, signal, async (read) => {
    const decoded = await readPackRange(store, pool, read);
    signal?.throwIfAborted();
    // Every block of the range is written at once (positional writes, any order): the writes queue on
    // the I/O threads while this lane's next range is read and decoded.
    const writes: Promise<void>[] = [];
    for (let i = 0; i < decoded.length; i++) {
      for (const at of indexesByHash.get(read.blocks[i].hash)!) {
        writes.push(write(at, decoded[i]));
        blocksDone++;
        bytesDone += decoded[i].length;
      }
    }
    await Promise.all(writes);
    options.onProgress?.(blocksDone, bytesDone);
  });
}
