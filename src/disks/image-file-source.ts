import { open, type FileHandle } from 'node:fs/promises';
import type { BlockSource, Extent } from './block-source.js';

/**
 * A raw (possibly sparse) disk image file as a block source.
 * Node has no SEEK_DATA/SEEK_HOLE, so `allocatedExtents` reports the whole file; readers detect
 * all-zero blocks themselves (holes read back as zeros at page-cache speed).
 */
export class ImageFileSource implements BlockSource {
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<ImageFileSource> {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      return new ImageFileSource(fh, st.size, path);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const end = Math.min(this.size, offset + length);
    if (end <= offset) return Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(end - offset);
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await this.fh.read(buf, done, buf.length - done, offset + done);
      if (bytesRead === 0) {
        buf.fill(0, done);
        break;
      }
      done += bytesRead;
    }
    return buf;
  }

  async allocatedExtents(): Promise<Extent[]> {
    return this.size > 0 ? [{ offset: 0, length: this.size }] : [];
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
