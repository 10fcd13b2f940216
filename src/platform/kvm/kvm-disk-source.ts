import type { BlockSource, ChainBreak, ChangeTracking, Extent } from '../../disks/block-source.js';
import { NbdClient } from './nbd-client.js';
import { mapExtents, serveImage, type NbdExport } from './nbd-export.js';
import { addBitmap, allQcow2Bitmaps, imageSize, removeBitmap } from './qcow2-bitmaps.js';
import { readDirtyExtents } from './qcow2-dirty-bitmap.js';

/** A read-only qemu-nbd export of the image and the one connection to it. */
interface ServedImage {
  served: NbdExport;
  client: NbdClient;
}

/**
 * A powered-off KVM VM's disk, read from its image through a read-only qemu-nbd export. A qcow2 image tells what
 * changed since any of its persistent dirty bitmaps (libvirt checkpoints' and openem's). Opened with a `checkpoint`
 * (for a backup), a qcow2 image gets a new persistent dirty bitmap of that name: every later write, by the guest or
 * a restore, sets its bits, so the next opening can tell what changed since this one. On close, the earlier
 * bitmaps `replaces` picks are removed but the one this opening counted from (the newest point's, should this
 * backup fail): at most two keep costing guest writes (and qcow2 holds a limited number).
 *
 * The export starts on first read, and one export and one connection serve the whole opening. The size and the
 * changes since a bitmap come from the image's own metadata, so opening and a plan from CBT (a QuickRollback's,
 * which reads nothing else) start no process.
 */
export class KvmImageSource implements BlockSource {
  readonly changeTracking?: ChangeTracking;
  private extents: Promise<Extent[]> | undefined;
  /** The earlier bitmap this opening was asked to count from: kept on close, should this backup fail. */
  private countedFrom: string | undefined;
  private export: Promise<ServedImage> | undefined;

  private constructor(
    private readonly image: string,
    private readonly format: string,
    readonly size: number,
    checkpoint: string | undefined,
    private readonly replaces: ((name: string) => boolean) | undefined,
    qcow2: boolean,
  ) {
    if (qcow2) this.changeTracking = { ...(checkpoint ? { checkpoint } : {}), changedBlocksSince: (since) => this.changedSince(since) };
  }

  static async open(image: string, format: string, checkpoint: string | undefined, options: { replaces?: (name: string) => boolean } = {}): Promise<KvmImageSource> {
    const qcow2 = format === 'qcow2';
    const tracked = qcow2 && checkpoint !== undefined;
    const size = await imageSize(image, format);
    if (tracked) await addBitmap(image, checkpoint);
    return new KvmImageSource(image, format, size, tracked ? checkpoint : undefined, tracked ? options.replaces : undefined, qcow2);
  }

  /** The export, started on first use. */
  private served(): Promise<ServedImage> {
    this.export ??= serveRead(this.image, this.format);
    return this.export;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const n = Math.max(0, Math.min(length, this.size - offset));
    return n === 0 ? Buffer.alloc(0) : (await this.served()).client.read(offset, n);
  }

  /** Straight into `target` over NBD; past the end of the disk, zeros. */
  async readInto(offset: number, target: Uint8Array): Promise<void> {
    const n = Math.max(0, Math.min(target.length, this.size - offset));
    const into = Buffer.from(target.buffer, target.byteOffset, target.length);
    if (n > 0) await (await this.served()).client.readInto(offset, into.subarray(0, n));
    into.fill(0, n);
  }

  /** Where the image holds data: qemu's block status, extents that do not read as zeros. */
  allocatedExtents(): Promise<Extent[]> {
    this.extents ??= this.served().then((s) => mapExtents(s.client, 'base:allocation', (type) => (type & 2) === 0));
    return this.extents;
  }

  /**
   * The bits of bitmap `since`, read from the image's own bitmap table (qcow2-dirty-bitmap.ts): a plan from CBT
   * (a QuickRollback's, a backup's) starts no process for it. A chain break if the bitmap is gone or not trusted.
   */
  private async changedSince(since: string): Promise<Extent[] | ChainBreak> {
    const dirty = await readDirtyExtents(this.image, since);
    if (!dirty) return { broken: `the disk image holds no enabled, cleanly stored dirty bitmap ${since} (removed, disabled, the VM stopped uncleanly, or the disk was replaced)` };
    this.countedFrom = since;
    return dirty;
  }

  async close(): Promise<void> {
    const served = this.export && (await this.export.catch(() => undefined));
    this.export = undefined;
    if (served) await stopServed(served);
    const current = this.changeTracking?.checkpoint;
    if (!current || !this.replaces) return;
    // Best effort: a bitmap left (the image opened elsewhere meanwhile) goes at the next backup's close.
    for (const name of await allQcow2Bitmaps(this.image).catch(() => [])) {
      if (name !== current && name !== this.countedFrom && this.replaces(name)) await removeBitmap(this.image, name).catch(() => undefined);
    }
  }
}

/** A read-only export of `image` and a connection to it. */
async function serveRead(image: string, format: string): Promise<ServedImage> {
  const served = await serveImage(image, format, { writable: false });
  try {
    const client = await NbdClient.connect(served.socket, served.exportName, { metaContexts: ['base:allocation'] });
    return { served, client };
  } catch (e) {
    await served.stop();
    throw e;
  }
}

async function stopServed(s: ServedImage): Promise<void> {
  await s.client.close();
  await s.served.stop();
}
