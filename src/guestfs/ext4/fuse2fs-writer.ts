import { ImageFileSource } from '../../disks/image-file-source.js';
import { PartitionSource } from '../../disks/partition-source.js';
import { conflict } from '../../errors.js';
import { afterFailure } from '../mounted/after-failure.js';
import { assertImageCheckable, checkImageFilesystemClean } from './e2fsprogs.js';
import { INCOMPAT, readSuperblock } from './ext4-superblock.js';
import type { GuestWriteOptions, GuestWriteRequest, GuestWriteResult, GuestWriter } from '../guest-writer.js';
import { writeIntoMountedFolder } from '../mounted/write-into-mounted-folder.js';
import { mountWithFuse2fs, type Fuse2fsTarget } from './fuse2fs-mount.js';

/**
 * Writes restored items into an ext4 filesystem inside a disk image (ARCHITECTURE.md, guest file restore):
 * mounted with fuse2fs in a private folder for the time of the write, written with ordinary file-system calls
 * (write-into-mounted-folder.ts: beside, then renamed over; holes kept; space checked first), unmounted, then
 * proved with `e2fsck -fn`. No guest byte ever becomes part of a command line or script. The image must not be
 * in use by a running guest or another writer.
 */
export class Fuse2fsWriter implements GuestWriter {
  constructor(private readonly target: Fuse2fsTarget) {}

  async write(request: GuestWriteRequest, options: GuestWriteOptions = {}): Promise<GuestWriteResult> {
    assertImageCheckable(this.target.workRoot, this.target.offset);
    await this.refuseUnrecoveredJournal();
    const mount = await mountWithFuse2fs(this.target);
    let result: GuestWriteResult | undefined;
    let failure: unknown;
    try {
      result = await writeIntoMountedFolder(mount.path, request, options);
    } catch (e) {
      failure = e;
    }
    await afterFailure(failure, () => mount.unmount());
    await afterFailure(failure, () => checkImageFilesystemClean(this.target.workRoot, this.target.imagePath, this.target.offset));
    if (failure !== undefined) throw failure;
    options.log?.('e2fsck -fn reports the guest filesystem clean');
    return result!;
  }

  /** fuse2fs does not replay a journal: writing past an unreplayed one would be undone or corrupted. */
  private async refuseUnrecoveredJournal(): Promise<void> {
    const image = await ImageFileSource.open(this.target.imagePath);
    try {
      const sb = await readSuperblock(new PartitionSource(image, this.target.offset, image.size - this.target.offset));
      if (sb.featureIncompat & INCOMPAT.RECOVER) {
        throw conflict('guest filesystem needs journal recovery (unclean shutdown); run e2fsck on it first');
      }
    } finally {
      await image.close();
    }
  }
}
