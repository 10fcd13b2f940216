import { open, type FileHandle } from 'node:fs/promises';
import type { BlockSource, Extent, LocalFileView } from './block-source.js';

/**
 * A raw (possibly sparse) disk image file as a block source.
 * Node has no SEEK_DATA/SEEK_HOLE, so `allocatedExtents` reports the whole file; a platform that knows how to
 * ask its filesystem where the data is (the local platform, through FIEMAP) wraps this source and answers
 * better. Readers detect all-zero blocks themselves (holes read back as zeros at page-cache speed).
 */
export class ImageFileSource implements BlockSource {
  readonly localFile: LocalFileView;

  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly path: string,
  ) {
    this.localFile = { path, offset: 0 };
  }

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
    await this.readInto(offset, buf);
    return buf;
  }

  /** Reads straight into `target` (one copy, by the kernel); past the end of the file reads as zeros. */
  async readInto(offset: number, target: Uint8Array): Promise<void> {
    let done = 0;
    while (done < target.length) {
      const { bytesRead } = await this.fh.read(target, done, target.length - done, offset + done);
      if (bytesRead === 0) {
        target.fill(0, done);
        break;
      }
      done += bytesRead;
    }
  }

  async allocatedExtents(): Promise<Extent[]> {
    return this.size > 0 ? [{ offset: 0, length: this.size }] : [];
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
