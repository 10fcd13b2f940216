import { open, type FileHandle } from 'node:fs/promises';
import { badRequest, OpenemError } from '../../errors.js';
import type { Extent } from '../../disks/block-source.js';
import type { DiskWriter } from '../platform.js';
import { coalesceRanges, punchHoles } from './hole-punching.js';

/** Zero ranges are collected and punched in one batch once this many are pending. */
const MAX_PENDING_ZERO_RANGES = 256;
const ZERO_CHUNK = Buffer.alloc(1024 * 1024);

/**
 * Positional writes into a raw image file. `zero` punches holes (batched, applied before any write that
 * overlaps them and at the latest on `sync`/`close`); without `fallocate`, or on a filesystem that cannot
 * punch, it writes zeros instead, so the bytes are right either way and only the space saving is lost.
 */
export class ImageFileWriter implements DiskWriter {
  private pendingZeros: Extent[] = [];
  private canPunch: boolean;

  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly path: string,
    private readonly fallocatePath: string | undefined,
  ) {
    this.canPunch = fallocatePath !== undefined;
  }

  /** `fallocatePath` undefined means holes cannot be punched; zeros are written instead. */
  static async open(path: string, fallocatePath: string | undefined): Promise<ImageFileWriter> {
    const fh = await open(path, 'r+');
    try {
      const st = await fh.stat();
      return new ImageFileWriter(fh, st.size, path, fallocatePath);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  private checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw badRequest(`invalid range ${offset}+${length} for ${this.path}`);
    }
    if (offset + length > this.size) {
      throw badRequest(`range ${offset}+${length} is past the end of ${this.path} (${this.size} bytes)`);
    }
  }

  async write(offset: number, data: Buffer): Promise<void> {
    this.checkRange(offset, data.length);
    if (this.pendingZeros.some((z) => z.offset < offset + data.length && offset < z.offset + z.length)) {
      await this.flushZeros();
    }
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.fh.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
  }

  async zero(offset: number, length: number): Promise<void> {
    this.checkRange(offset, length);
    if (length === 0) return;
    if (!this.canPunch) return this.writeZeros({ offset, length });
    this.pendingZeros.push({ offset, length });
    if (this.pendingZeros.length >= MAX_PENDING_ZERO_RANGES) await this.flushZeros();
  }

  private async flushZeros(): Promise<void> {
    const ranges = coalesceRanges(this.pendingZeros);
    this.pendingZeros = [];
    if (ranges.length === 0) return;
    if (this.canPunch && this.fallocatePath) {
      try {
        await punchHoles(this.fallocatePath, this.path, ranges);
        return;
      } catch (e) {
        // A filesystem that cannot punch holes (EOPNOTSUPP) gets zeros, which give the same bytes; any other
        // failure (the image gone, an I/O error) is the restore's to report.
        if (!cannotPunch(e)) throw new OpenemError('INTERNAL', `cannot zero ${ranges.length} ranges of ${this.path}: ${(e as Error).message}`, { cause: e });
        this.canPunch = false;
      }
    }
    for (const r of ranges) await this.writeZeros(r);
  }

  private async writeZeros(range: Extent): Promise<void> {
    for (let at = range.offset; at < range.offset + range.length; at += ZERO_CHUNK.length) {
      const len = Math.min(ZERO_CHUNK.length, range.offset + range.length - at);
      await this.write(at, ZERO_CHUNK.subarray(0, len));
    }
  }

  async sync(): Promise<void> {
    await this.flushZeros();
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    try {
      await this.flushZeros();
    } finally {
      await this.fh.close();
    }
  }
}

/** fallocate's words (C locale or not) for a filesystem without FALLOC_FL_PUNCH_HOLE. */
function cannotPunch(e: unknown): boolean {
  return /Operation not supported|EOPNOTSUPP|not supported/i.test((e as Error)?.message ?? '');
}
