import type { DiskWriter, Platform } from '../../platform/platform.js';

/**
 * The writers of a QuickRollback's disks, opened while the rest of the restore is prepared (issue #13): on KVM a
 * writable export is a qemu-nbd started for the disk (tens of ms), and nothing about it depends on the blocks'
 * verification or the VM's mark. A disk's writer is opened only once its plan is final and nothing reads the disk
 * any more: the image is locked for writing from then on.
 */
export class EarlyDiskWriters {
  private readonly opening = new Map<string, Promise<DiskWriter>>();

  constructor(
    private readonly platform: Pick<Platform, 'openDiskForWrite'>,
    private readonly vmId: string,
  ) {}

  /** Starts opening disk `diskName` for writing; a failure is thrown where the writer is taken. */
  open(diskName: string): void {
    const writer = this.platform.openDiskForWrite(this.vmId, diskName);
    writer.catch(() => undefined);
    this.opening.set(diskName, writer);
  }

  /** The writer opened early for the disk, now the caller's to close; undefined when none was. */
  take(diskName: string): Promise<DiskWriter> | undefined {
    const writer = this.opening.get(diskName);
    this.opening.delete(diskName);
    return writer;
  }

  /** Closes every writer not taken: nothing was written through them. */
  async closeAll(): Promise<void> {
    const left = [...this.opening.values()];
    this.opening.clear();
    await Promise.all(left.map((w) => w.then((writer) => writer.close(), () => undefined).catch(() => undefined)));
  }
}
