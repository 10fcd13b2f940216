import { badRequest } from '../../errors.js';
import type { DiskWriter } from '../platform.js';
import { NbdClient } from './nbd-client.js';
import { serveImage, type NbdExport } from './nbd-export.js';

/** Writes into a powered-off VM's image through a writable qemu-nbd export (qcow2 stays qcow2, its bitmaps see the writes). */
export class KvmImageWriter implements DiskWriter {
  private constructor(private readonly served: NbdExport, private readonly client: NbdClient) {}

  static async open(image: string, format: string): Promise<KvmImageWriter> {
    const served = await serveImage(image, format, { writable: true });
    try {
      return new KvmImageWriter(served, await NbdClient.connect(served.socket, served.exportName));
    } catch (e) {
      await served.stop();
      throw e;
    }
  }

  get size(): number {
    return this.client.size;
  }

  private check(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > this.size) {
      throw badRequest(`a write of ${length} bytes at ${offset} does not fit the disk of ${this.size} bytes`);
    }
  }

  async write(offset: number, data: Buffer): Promise<void> {
    this.check(offset, data.length);
    if (data.length) await this.client.write(offset, data);
  }

  async zero(offset: number, length: number): Promise<void> {
    this.check(offset, length);
    if (length) await this.client.writeZeroes(offset, length);
  }

  sync(): Promise<void> {
    return this.client.flush();
  }

  /** A failed final flush (the writes may not be on the image) is thrown, once qemu-nbd is stopped. */
  async close(): Promise<void> {
    try {
      await this.client.flush();
    } finally {
      await this.client.close().catch(() => undefined);
      await this.served.stop();
    }
  }
}
