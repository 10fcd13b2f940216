import { corrupt } from '../errors.js';
import type { BlockSource, Extent } from './block-source.js';

/**
 * A window [start, start + size) of another block source, seen as a disk of its own
 * (a partition, or a filesystem at an offset). Closing the view does not close the parent:
 * several partitions of one disk share it.
 */
export class PartitionSource implements BlockSource {
  readonly size: number;

  constructor(
    private readonly parent: BlockSource,
    readonly start: number,
    size: number,
  ) {
    if (start < 0 || size < 0 || !Number.isSafeInteger(start) || !Number.isSafeInteger(size)) {
      throw corrupt(`invalid partition window ${start}+${size}`);
    }
    // A table may claim more than the disk holds (truncated image): cut rather than read garbage.
    this.size = Math.max(0, Math.min(size, parent.size - start));
  }

  read(offset: number, length: number): Promise<Buffer> {
    const end = Math.min(this.size, offset + length);
    if (offset < 0 || end <= offset) return Promise.resolve(Buffer.alloc(0));
    return this.parent.read(this.start + offset, end - offset);
  }

  async allocatedExtents(): Promise<Extent[]> {
    const out: Extent[] = [];
    const end = this.start + this.size;
    for (const e of await this.parent.allocatedExtents()) {
      const s = Math.max(e.offset, this.start);
      const t = Math.min(e.offset + e.length, end);
      if (t > s) out.push({ offset: s - this.start, length: t - s });
    }
    return out;
  }

  async close(): Promise<void> {
    // The parent belongs to whoever opened it.
  }
}
