import { randomUUID } from 'node:crypto';
import { chown, link, open, rename, rm, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { conflict } from '../../errors.js';
import type { DiskReplacement } from '../platform.js';
import { syncDirectory } from '../../host/sync-directory.js';
import { DirectImageWriter } from './direct-image-writer.js';
import { stagingFolderName } from './staging-folders.js';

/** Free space kept beyond the new images' data, so a restore does not fill the VMs' filesystem to the last block. */
const SPARE_BYTES = 256 * 1024 * 1024;

/** Bytes free for an unprivileged writer in the filesystem holding `dir`. */
async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/**
 * A disk's new image, written beside the image it replaces (`.staging-m<machine>-b<boot>-<pid>-<uuid>.img` in the VM's
 * folder, sparse, with the original's mode and owner) and renamed over it by `commit`: until then the original
 * is not touched, and after it the VM has the new image whole. A crash leaves only the staging file, which the
 * next open of the platform removes (staging-folders.ts).
 */
export class LocalDiskReplacement implements DiskReplacement {
  private state: 'open' | 'committed' | 'aborted' = 'open';
  private oldImage: string | undefined;

  private constructor(
    readonly writer: DirectImageWriter,
    readonly stagingPath: string,
    private readonly imagePath: string,
  ) {}

  /**
   * New images for the given image files of one VM folder, each `size` bytes; `bytes` is the data all of them
   * will receive. `noRoom` when the folder's filesystem has not that much free space (and some to spare).
   */
  static async createAll(images: { path: string; size: number }[], bytes: number): Promise<LocalDiskReplacement[] | { noRoom: string }> {
    if (images.length === 0) return [];
    const dir = dirname(images[0].path);
    if (images.some((i) => dirname(i.path) !== dir)) throw conflict(`the disks to replace are not all in ${dir}`);
    const free = await freeBytes(dir);
    if (free < bytes + SPARE_BYTES) return { noRoom: `${(free / 2 ** 20).toFixed(0)} MiB free in ${dir}, new images need ${((bytes + SPARE_BYTES) / 2 ** 20).toFixed(0)} MiB` };
    const made: LocalDiskReplacement[] = [];
    try {
      for (const image of images) made.push(await LocalDiskReplacement.create(image.path, image.size));
    } catch (e) {
      for (const r of made) await r.abort();
      throw e;
    }
    return made;
  }

  private static async create(imagePath: string, size: number): Promise<LocalDiskReplacement> {
    const original = await stat(imagePath);
    const stagingPath = join(dirname(imagePath), `${stagingFolderName(process.pid, randomUUID())}.img`);
    const fh = await open(stagingPath, 'wx', original.mode & 0o7777);
    try {
      try {
        await fh.truncate(size);
        // open's mode passes through the umask; the new image gets the original's exactly.
        await fh.chmod(original.mode & 0o7777);
        if (original.uid !== process.getuid?.() || original.gid !== process.getgid?.()) await chown(stagingPath, original.uid, original.gid);
      } finally {
        await fh.close();
      }
      return new LocalDiskReplacement(await DirectImageWriter.open(stagingPath, size), stagingPath, imagePath);
    } catch (e) {
      await rm(stagingPath, { force: true });
      throw e;
    }
  }

  /**
   * Makes the new image durable and renames it over the original (then the folder is synced, so it stays). The
   * original is first linked under a staging name, so the rename does not free its blocks: that takes seconds for
   * gigabytes (3-4.5 s for 3 GiB here, a third of the restore) and is done by `oldImageRemoved`, after the restore.
   */
  async commit(): Promise<void> {
    if (this.state !== 'open') throw conflict(`the new image of ${this.imagePath} is already ${this.state}`);
    await this.writer.sync();
    await this.writer.close();
    const dir = dirname(this.imagePath);
    const old = join(dir, `${stagingFolderName(process.pid, randomUUID())}.img`);
    await link(this.imagePath, old);
    await rename(this.stagingPath, this.imagePath);
    this.state = 'committed';
    await syncDirectory(dir);
    this.oldImage = old;
  }

  /** Removes the replaced image (a crash before leaves a staging name, which the next start removes). */
  async oldImageRemoved(): Promise<void> {
    const old = this.oldImage;
    this.oldImage = undefined;
    if (old) await rm(old, { force: true });
  }

  /** Removes the new image; the original stays as it was. Safe after a failure, after commit, or twice. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    // A write that failed has been thrown to the restore already; closing only gives the descriptor back.
    await this.writer.close().catch(() => undefined);
    await rm(this.stagingPath, { force: true });
  }
}
