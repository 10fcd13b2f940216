import { Readable } from 'node:stream';
import type { BlockSource } from '../../disks/block-source.js';
import { firstRunEndingAfter, type BlockRun } from './ext4-extents.js';

/** Largest single source read; big enough to stream at disk speed, small enough to bound memory. */
export const MAX_READ_CHUNK = 8 * 1024 * 1024;

/** One step of reading a byte range of a file: bytes from the source, or zeros (hole / unwritten). */
export type ReadStep = { kind: 'data'; offset: number; length: number } | { kind: 'zero'; length: number };

/**
 * Plans the reads for file bytes [start, end): contiguous extents become one source read of up to
 * `maxChunk` bytes; holes and uninitialized extents become zero steps. Pure and synchronous.
 */
export function* planFileReads(
  runs: BlockRun[], blockSize: number, start: number, end: number, maxChunk = MAX_READ_CHUNK,
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
    const length = Math.min(end, runEnd, pos + maxChunk) - pos;
    if (run.uninit) yield { kind: 'zero', length };
    else yield { kind: 'data', offset: run.physical * blockSize + (pos - runStart), length };
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
 * Streams the planned steps in order with one read ahead in flight, so the source read of the
 * next chunk overlaps the consumer's handling of this one. Memory stays at about two chunks.
 */
export function streamPlanned(source: BlockSource, steps: Iterator<ReadStep>): Readable {
  let ahead: Promise<Buffer> | undefined;
  const next = (): Promise<Buffer> | undefined => {
    const s = steps.next();
    return s.done ? undefined : runStep(source, s.value);
  };
  return new Readable({
    highWaterMark: MAX_READ_CHUNK,
    read() {
      const current = ahead ?? next();
      if (!current) {
        this.push(null);
        return;
      }
      ahead = next();
      // Keep an unhandled rejection of the read-ahead from crashing the process; it is rethrown on use.
      ahead?.catch(() => undefined);
      current.then(
        (buf) => this.push(buf),
        (err) => this.destroy(err as Error),
      );
    },
  });
}
