import { mkdir, mkdtemp, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict } from '../../errors.js';
import { findTool, requireTool } from '../../host/find-tool.js';
import { spawnHelper, type HelperProcess } from '../../host/helper-process.js';
import { attachLoopDevice, type LoopDevice } from '../../host/loop-device.js';
import { superviseFuseDaemon, type FuseDaemonMount } from '../mounted/fuse-daemon-mount.js';

/** An NTFS volume inside a disk image: where it starts and how long it is (its partition). */
export interface NtfsVolumeTarget {
  imagePath: string;
  offset: number;
  size: number;
  /** Where the private mount folder is made (`<data>/flr-work`). */
  workRoot: string;
}

/** Unmounting waits for ntfs-3g to exit cleanly (everything written back) and removes the folders and the loop device. */
export type Ntfs3gMount = FuseDaemonMount;

/**
 * Mounts an NTFS volume read-write with ntfs-3g on a partition view (a loop device over just the partition, which
 * removes itself: host/loop-device.ts), for the time of one write. ntfs-3g runs in the foreground (`no_detach`) as
 * our child, started from an argv array through helper-process.ts so it dies with the server, on a fresh 0700
 * folder under `workRoot`. `streams_interface=windows` makes a named stream reachable as `file:stream` with ordinary
 * file calls (any size, holes kept); names holding `:` must therefore never reach it (ntfs3g-writer.ts refuses them).
 * `compression` lets files written into a compressed folder be compressed, as Windows does.
 * A volume Windows left hibernated or unclean is refused by ntfs-3g: CONFLICT, with its reason.
 */
export async function mountWithNtfs3g(target: NtfsVolumeTarget): Promise<Ntfs3gMount> {
  const ntfs3g = await requireTool('ntfs-3g', 'ntfs-3g');
  const fusermount = (await findTool('fusermount')) ?? (await requireTool('fusermount3', 'fuse3'));
  await mkdir(target.workRoot, { recursive: true, mode: 0o700 });
  const folder = await mkdtemp(join(target.workRoot, 'ntfs-3g-'));
  const root = join(folder, 'root');
  let loop: LoopDevice | undefined;
  const removeFolders = async () => {
    await rmdir(root).catch((e) => { if (e?.code !== 'ENOENT') throw e; });
    await rmdir(folder);
  };
  let daemon: HelperProcess;
  try {
    await mkdir(root, { mode: 0o700 });
    loop = await attachLoopDevice(target.imagePath, target.offset, target.size, { readOnly: false });
    daemon = await spawnHelper(ntfs3g, ['-o', 'no_detach,streams_interface=windows,compression,big_writes,noatime', loop.path, root], { debianPackage: 'ntfs-3g' });
  } catch (e) {
    await loop?.release();
    await removeFolders();
    throw e;
  }
  const device = loop;
  const mount = await superviseFuseDaemon({
    daemon,
    tool: 'ntfs-3g',
    what: "the guest's NTFS volume",
    imagePath: target.imagePath,
    folder,
    root,
    fusermount,
    quoteChars: 1000,
    finish: async () => {
      await device.release();
      await removeFolders();
    },
    // ntfs-3g exits 14 (NTFS_VOLUME_HIBERNATED) or 15 (NTFS_VOLUME_UNCLEAN_UNMOUNT) for a volume Windows did not close.
    mountRefusal: (exit, output, describeExit) =>
      exit && (exit.code === 14 || exit.code === 15 || /hibernat|unclean|Metadata kept in Windows cache/i.test(output))
        ? conflict(`the guest's NTFS volume was not shut down cleanly by Windows (hibernated or Fast Startup); shut Windows down fully first (${describeExit()})`)
        : undefined,
  });
  // For a hibernated or unclean volume this ntfs-3g does not exit: it falls back to a read-only mount.
  if (await mountedReadOnly(root)) {
    await mount.unmount();
    throw conflict("the guest's NTFS volume was not shut down cleanly by Windows (hibernated or Fast Startup): ntfs-3g would only mount it read-only; shut Windows down fully first");
  }
  return mount;
}

/** Whether the mount on `root` is read-only (its options in /proc/self/mountinfo). */
async function mountedReadOnly(root: string): Promise<boolean> {
  const escaped = root.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const fields = line.split(' ');
    if (fields[4] === escaped) return fields[5].split(',').includes('ro');
  }
  return false;
}
