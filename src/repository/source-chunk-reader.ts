import { BLOCK_SIZE, type BlockSource, type Extent } from '../disks/block-source.js';

/** Contiguous blocks read into one shared buffer; workers see it without a copy. */
export interface SourceChunk {
  firstBlock: number;
  blockCount: number;
  byteLength: number;
  buf: SharedArrayBuffer;
}

/** 8 MiB: a backup's read-ahead ring is a sixth of its memory at 16 (measured: openem backup peaked at 276 MiB with 16, 235 with 8). */
export const CHUNK_BLOCKS = 8;
/** Reads of chunks running at once, at most (the ring must hold one more buffer than this for the consumer). */
export const READS_IN_FLIGHT = 4;

/** Block index ranges [start, end) holding data, from the source's allocated extents. */
export function allocatedBlockRanges(size: number, extents: Extent[]): [number, number][] {
  const total = Math.ceil(size / BLOCK_SIZE);
  const ranges = extents
    .filter((e) => e.length > 0)
    .map((e): [number, number] => [Math.floor(e.offset / BLOCK_SIZE), Math.min(total, Math.ceil((e.offset + e.length) / BLOCK_SIZE))])
    .sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else if (r[1] > r[0]) merged.push([r[0], r[1]]);
  }
  return merged;
}

/**
 * Reads a block source's allocated blocks (or the extents the caller names) sequentially, 8 MiB at a time,
 * into a ring of shared buffers (made as reads need them, none longer than the longest range): reading runs
 * ahead of hashing by as many chunks as the ring holds, and stops when the consumer has not released a buffer. A source that can `readInto` is read straight into the shared
 * buffer (one copy, by the kernel); other sources are read and copied.
 */
export class SourceChunkReader {
  private readonly free: SharedArrayBuffer[] = [];
  /** Ring buffers made so far: one is made when none is free, up to `ringSize`. */
  private made = 0;
  /** Bytes of a ring buffer: a chunk's, or the longest range's when every range is shorter (CBT's scattered blocks). */
  private bufferBytes = CHUNK_BLOCKS * BLOCK_SIZE;
  private waitingForBuffer: (() => void) | undefined;

  /** `extents`: what to read instead of the source's allocated extents (the blocks CBT reports changed). */
  constructor(
    private readonly source: BlockSource,
    private readonly ringSize: number,
    private readonly extents?: Extent[],
  ) {}

  /** Gives a chunk's buffer back to the ring. */
  release(buf: SharedArrayBuffer): void {
    this.free.push(buf);
    const wake = this.waitingForBuffer;
    this.waitingForBuffer = undefined;
    wake?.();
  }

  private async takeBuffer(signal?: AbortSignal): Promise<SharedArrayBuffer> {
    while (this.free.length === 0) {
      if (this.made < this.ringSize) {
        this.made++;
        return new SharedArrayBuffer(this.bufferBytes);
      }
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => (this.waitingForBuffer = resolve));
    }
    return this.free.pop()!;
  }

  /**
   * Runs `work` on every chunk as it is read, several at once (as many as the ring has buffers), giving each
   * buffer back when its work ends. Stops reading at the first failure, waits for the work in flight, then
   * throws that first failure.
   */
  async forEachChunk(work: (chunk: SourceChunk) => Promise<void>, signal?: AbortSignal): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    try {
      for await (const chunk of this.chunks(signal)) {
        if (failure !== undefined) {
          this.release(chunk.buf);
          break;
        }
        const p: Promise<void> = work(chunk)
          .catch((e) => {
            failure ??= e;
          })
          .finally(() => {
            this.release(chunk.buf);
            inFlight.delete(p);
          });
        inFlight.add(p);
      }
    } catch (e) {
      failure ??= e;
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
  }

  /**
   * The chunks in disk order. Up to READS_IN_FLIGHT reads run at once (fewer with a small ring): a source whose
   * reads are round trips (an NBD export) keeps its server busy while the previous chunk is still on its way.
   */
  async *chunks(signal?: AbortSignal): AsyncGenerator<SourceChunk> {
    const ranges = allocatedBlockRanges(this.source.size, this.extents ?? (await this.source.allocatedExtents()));
    if (this.made === 0) {
      let longest = 1;
      for (const [start, end] of ranges) longest = Math.max(longest, end - start);
      this.bufferBytes = Math.min(CHUNK_BLOCKS, longest) * BLOCK_SIZE;
    }
    const ahead = Math.max(1, Math.min(READS_IN_FLIGHT, this.ringSize - 1));
    const started: Promise<SourceChunk>[] = [];
    try {
      for (const [start, end] of ranges) {
        for (let first = start; first < end; first += CHUNK_BLOCKS) {
          signal?.throwIfAborted();
          const blockCount = Math.min(CHUNK_BLOCKS, end - first);
          const offset = first * BLOCK_SIZE;
          const byteLength = Math.min(this.source.size, (first + blockCount) * BLOCK_SIZE) - offset;
          const buf = await this.takeBuffer(signal);
          const read = this.readChunk(buf, { firstBlock: first, blockCount, byteLength, buf }, offset);
          // Awaited in order below; a failure of one not reached yet is thrown when it is.
          read.catch(() => undefined);
          started.push(read);
          if (started.length >= ahead) yield await started.shift()!;
        }
      }
      while (started.length > 0) yield await started.shift()!;
    } finally {
      // Stopped early (a failure, an abort, the consumer's break): the reads still running end before their buffers go back.
      for (const read of started.splice(0)) {
        const chunk = await read.catch(() => undefined);
        if (chunk) this.release(chunk.buf);
      }
    }
  }

  /** Reads one chunk into its buffer; a failed read gives the buffer back. */
  private async readChunk(buf: SharedArrayBuffer, chunk: SourceChunk, offset: number): Promise<SourceChunk> {
    try {
      await this.readInto(buf, offset, chunk.byteLength);
    } catch (e) {
      this.release(buf);
      throw e;
    }
    return chunk;
  }

  private async readInto(buf: SharedArrayBuffer, offset: number, length: number): Promise<void> {
    const target = Buffer.from(buf, 0, length);
    if (this.source.readInto) return this.source.readInto(offset, target);
    const data = await this.source.read(offset, length);
    data.copy(target);
    if (data.length < length) target.fill(0, data.length);
  }
}
