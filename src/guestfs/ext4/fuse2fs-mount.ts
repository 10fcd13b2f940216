import { mkdir, mkdtemp, rm, rmdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { OpenemError } from '../../errors.js';
import { findTool, requireTool } from '../../host/find-tool.js';
import { spawnHelper, type HelperProcess } from '../../host/helper-process.js';
import { superviseFuseDaemon, type FuseDaemonMount } from '../mounted/fuse-daemon-mount.js';

/** Unmounting waits for fuse2fs to exit cleanly (everything written back) and removes the folders. */
export type Fuse2fsMount = FuseDaemonMount;

export interface Fuse2fsTarget {
  /** The disk image holding the filesystem. */
  imagePath: string;
  /** Byte offset of the filesystem in the image. */
  offset: number;
  /** Where the private mount folder is made (`<data>/flr-work`). */
  workRoot: string;
}

/**
 * Mounts an ext4 filesystem inside a disk image read-write with e2fsprogs' fuse2fs (libext2fs over FUSE, no
 * loop device, no kernel ext4), for the time of one write. fuse2fs runs in the foreground as our child, started
 * from an argv array by the helper-process module (through `setpriv --pdeathsig KILL`, so it dies with the
 * server), on a fresh 0700 folder under `workRoot`; it is mounted without allow_other, so only we see it.
 */
export async function mountWithFuse2fs(target: Fuse2fsTarget): Promise<Fuse2fsMount> {
  if (!Number.isSafeInteger(target.offset) || target.offset < 0) throw new OpenemError('BAD_REQUEST', `invalid filesystem offset ${target.offset}`);
  const fuse2fs = await requireTool('fuse2fs', 'fuse2fs');
  const fusermount = (await findTool('fusermount')) ?? (await requireTool('fusermount3', 'fuse3'));
  await mkdir(target.workRoot, { recursive: true, mode: 0o700 });
  const folder = await mkdtemp(join(target.workRoot, 'fuse2fs-'));
  const root = join(folder, 'root');
  // fuse2fs copies its device argument into `-o fsname=<device>`, which libfuse splits on commas: the image
  // path holds the VM's name (`x,modules=subdir,subdir=etc` would move every write). It gets a fixed name instead.
  const image = join(folder, 'image');
  const removeFolders = async () => {
    await rm(image, { force: true });
    await rmdir(root).catch((e) => { if (e?.code !== 'ENOENT') throw e; });
    await rmdir(folder);
  };
  try {
    await mkdir(root, { mode: 0o700 });
    await symlink(target.imagePath, image);
  } catch (e) {
    await removeFolders();
    throw e;
  }

  let daemon: HelperProcess;
  try {
    daemon = await spawnHelper(fuse2fs, ['-f', image, root, '-o', `offset=${target.offset}`]);
  } catch (e) {
    await removeFolders();
    throw e;
  }
  return superviseFuseDaemon({ daemon, tool: 'fuse2fs', what: 'the guest filesystem', imagePath: target.imagePath, folder, root, fusermount, finish: removeFolders });
}
