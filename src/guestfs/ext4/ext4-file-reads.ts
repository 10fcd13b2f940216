import { Readable } from 'node:stream';
import type { BlockSource } from '../../disks/block-source.js';
import { firstRunEndingAfter, type BlockRun } from './ext4-extents.js';

/** Largest single source read; big enough to stream at disk speed, small enough to bound memory. */
export const MAX_READ_CHUNK = 8 * 1024 * 1024;

/** One step of reading a byte range of a file: bytes from the source, or zeros (hole / unwritten). */
export type ReadStep = { kind: 'data'; offset: number; length: number } | { kind: 'zero'; length: number };

/**
 * Plans the reads for file bytes [start, end): contiguous extents become one source read of up to
 * `maxChunk` bytes; holes and uninitialized extents become zero steps. `aligned` ends data reads at multiples
 * of `maxChunk` on the source, so that a stream reading repository blocks takes each block whole, once, without
 * copying it (a read across two blocks loads both and copies them into one buffer). Pure and synchronous.
 */
export function* planFileReads(
  runs: BlockRun[], blockSize: number, start: number, end: number, maxChunk = MAX_READ_CHUNK, aligned = false,
): Generator<ReadStep> {
  let pos = start;
  let i = firstRunEndingAfter(runs, Math.floor(start / blockSize));
  while (pos < end) {
    while (i < runs.length && (runs[i].logical + runs[i].length) * blockSize <= pos) i++;
    const run = runs[i];
    const runStart = run ? run.logical * blockSize : Infinity;
    if (pos < runStart) {
      const length = Math.min(end, runStart, pos + maxChunk) - pos;
      yield { kind: 'zero', length };
      pos += length;
      continue;
    }
    const runEnd = (run.logical + run.length) * blockSize;
    const offset = run.physical * blockSize + (pos - runStart);
    const length = Math.min(end, runEnd, pos + (aligned ? maxChunk - (offset % maxChunk) : maxChunk)) - pos;
    if (run.uninit) yield { kind: 'zero', length };
    else yield { kind: 'data', offset, length };
    pos += length;
  }
}

function runStep(source: BlockSource, step: ReadStep): Promise<Buffer> {
  if (step.kind === 'zero') return Promise.resolve(Buffer.alloc(step.length));
  return source.read(step.offset, step.length).then((b) =>
    // A filesystem that claims blocks past the end of its disk: pad rather than return short.
    b.length === step.length ? b : Buffer.concat([b, Buffer.alloc(step.length - b.length)]),
  );
}

/** Reads the planned steps into one buffer (small reads: FUSE, `read`). */
export async function readPlanned(source: BlockSource, steps: Iterable<ReadStep>): Promise<Buffer> {
  const parts = await Promise.all([...steps].map((s) => runStep(source, s)));
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/**
 * A stream's read size (issue #11 goal 5): one repository block, so a download holds a few of them however many
 * run at once (20 parallel 1 GiB downloads in well under 400 MiB), while `STREAM_READS_AHEAD` reads in flight keep
 * the source busy.
 */
export const STREAM_READ_CHUNK = 1024 * 1024;
export const STREAM_READS_AHEAD = 3;

/**
 * Streams the planned steps in order with `readsAhead` source reads in flight, so the reads of the next
 * chunks overlap the consumer's handling of this one. Backpressure holds: nothing more is read while the
 * consumer has not taken what is buffered, so memory stays at about readsAhead + 1 chunks.
 */
export function streamPlanned(source: BlockSource, steps: Iterator<ReadStep>, options: { chunk?: number; readsAhead?: number } = {}): Readable {
  const ahead: Promise<Buffer>[] = [];
  let done = false;
  const fill = (depth: number) => {
    while (!done && ahead.length < depth) {
      const s = steps.next();
      if (s.done) done = true;
      else {
        const p = runStep(source, s.value);
        // Keep an unhandled rejection of a read-ahead from crashing the process; it is rethrown on use.
        p.catch(() => undefined);
        ahead.push(p);
      }
    }
  };
  const depth = 1 + (options.readsAhead ?? STREAM_READS_AHEAD);
  return new Readable({
    highWaterMark: options.chunk ?? MAX_READ_CHUNK,
    read() {
      fill(depth);
      const current = ahead.shift();
      if (!current) {
        this.push(null);
        return;
      }
      current.then(
        (buf) => this.push(buf),
        (err) => this.destroy(err as Error),
      );
    },
  });
}
