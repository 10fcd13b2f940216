import type { BlockSource, ChainBreak, ChangeTracking, Extent } from '../../disks/block-source.js';
import { NbdClient } from './nbd-client.js';
import { mapExtents, serveImage, type NbdExport } from './nbd-export.js';
import { addBitmap, allQcow2Bitmaps, qcow2Bitmaps, removeBitmap } from './qcow2-bitmaps.js';

/**
 * A powered-off KVM VM's disk, read from its image through a read-only qemu-nbd export. A qcow2 image tells what
 * changed since any of its persistent dirty bitmaps (libvirt checkpoints' and openem's). Opened with a `checkpoint`
 * (for a backup), a qcow2 image gets a new persistent dirty bitmap of that name: every later write, by the guest or
 * a restore, sets its bits, so the next opening can tell what changed since this one. On close, the earlier
 * bitmaps `replaces` picks are removed but the one this opening counted from (the newest point's, should this
 * backup fail): at most two keep costing guest writes (and qcow2 holds a limited number).
 */
export class KvmImageSource implements BlockSource {
  readonly changeTracking?: ChangeTracking;
  private extents: Promise<Extent[]> | undefined;
  /** The earlier bitmap this opening was asked to count from: kept on close, should this backup fail. */
  private countedFrom: string | undefined;

  private constructor(
    private readonly image: string,
    private readonly served: NbdExport,
    private readonly client: NbdClient,
    checkpoint: string | undefined,
    private readonly replaces: ((name: string) => boolean) | undefined,
    qcow2: boolean,
  ) {
    if (qcow2) this.changeTracking = { ...(checkpoint ? { checkpoint } : {}), changedBlocksSince: (since) => this.changedSince(since) };
  }

  static async open(image: string, format: string, checkpoint: string | undefined, options: { replaces?: (name: string) => boolean } = {}): Promise<KvmImageSource> {
    const qcow2 = format === 'qcow2';
    const tracked = qcow2 && checkpoint !== undefined;
    if (tracked) await addBitmap(image, checkpoint);
    const served = await serveImage(image, format, { writable: false });
    try {
      const client = await NbdClient.connect(served.socket, served.exportName);
      return new KvmImageSource(image, served, client, tracked ? checkpoint : undefined, tracked ? options.replaces : undefined, qcow2);
    } catch (e) {
      await served.stop();
      throw e;
    }
  }

  get size(): number {
    return this.client.size;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const n = Math.max(0, Math.min(length, this.size - offset));
    return n === 0 ? Buffer.alloc(0) : this.client.read(offset, n);
  }

  async readInto(offset: number, target: Uint8Array): Promise<void> {
    const data = await this.read(offset, target.length);
    target.set(data);
    target.fill(0, data.length);
  }

  /** Where the image holds data: qemu's block status, extents that do not read as zeros. */
  allocatedExtents(): Promise<Extent[]> {
    this.extents ??= mapExtents(this.served.socket, this.served.exportName, 'base:allocation', (type) => (type & 2) === 0);
    return this.extents;
  }

  /** The bits of bitmap `since`, read through a second read-only export of the image; a chain break if it is gone. */
  private async changedSince(since: string): Promise<Extent[] | ChainBreak> {
    if (!(await qcow2Bitmaps(this.image)).includes(since)) {
      return { broken: `the disk image holds no enabled, cleanly stored dirty bitmap ${since} (removed, disabled, the VM stopped uncleanly, or the disk was replaced)` };
    }
    this.countedFrom = since;
    const served = await serveImage(this.image, 'qcow2', { writable: false, bitmap: since });
    try {
      return await mapExtents(served.socket, served.exportName, `qemu:dirty-bitmap:${since}`, (type) => (type & 1) !== 0);
    } finally {
      await served.stop();
    }
  }

  async close(): Promise<void> {
    await this.client.close();
    await this.served.stop();
    const current = this.changeTracking?.checkpoint;
    if (!current || !this.replaces) return;
    // Best effort: a bitmap left (the image opened elsewhere meanwhile) goes at the next backup's close.
    for (const name of await allQcow2Bitmaps(this.image).catch(() => [])) {
      if (name !== current && name !== this.countedFrom && this.replaces(name)) await removeBitmap(this.image, name).catch(() => undefined);
    }
  }
}
