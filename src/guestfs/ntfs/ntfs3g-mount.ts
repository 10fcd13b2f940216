import { mkdir, mkdtemp, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict, OpenemError } from '../../errors.js';
import { findTool, requireTool } from '../../host/find-tool.js';
import { runHelper, spawnHelper, type HelperProcess } from '../../host/helper-process.js';
import { attachLoopDevice, type LoopDevice } from '../../host/loop-device.js';

const MOUNT_TIMEOUT_MS = 20_000;
const UNMOUNT_RETRY_MS = 10_000;
/** After unmounting, ntfs-3g writes its caches back and closes the volume; a big write takes a while. */
const EXIT_TIMEOUT_MS = 300_000;
const OUTPUT_TAIL = 4096;

/** An NTFS volume inside a disk image: where it starts and how long it is (its partition). */
export interface NtfsVolumeTarget {
  imagePath: string;
  offset: number;
  size: number;
  /** Where the private mount folder is made (`<data>/flr-work`). */
  workRoot: string;
}

export interface Ntfs3gMount {
  /** The root folder of the mounted volume (inside a fresh 0700 folder nobody else can enter). */
  readonly path: string;
  /** Unmounts, waits for ntfs-3g to exit cleanly (everything written back) and removes the folders and the loop device. */
  unmount(): Promise<void>;
}

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
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString('utf8')).slice(-OUTPUT_TAIL));
  daemon.child.stdout?.on('data', keep);
  daemon.child.stderr?.on('data', keep);
  let exit: { code: number | null; signal: string | null } | undefined;
  void daemon.exited.then((e) => (exit = e));
  const describeExit = () => `exit ${exit?.code ?? exit?.signal}` + (output.trim() ? `: ${output.trim().slice(-1000)}` : '');

  const finish = async () => {
    await device.release();
    await removeFolders();
  };
  try {
    await waitUntilMounted(folder, root, () => exit !== undefined, describeExit);
  } catch (e) {
    await daemon.stop('SIGKILL');
    await runHelper(fusermount, ['-u', '-z', '-q', '--', root], { acceptExitCodes: 'any' });
    await finish();
    // ntfs-3g exits 14 (NTFS_VOLUME_HIBERNATED) or 15 (NTFS_VOLUME_UNCLEAN_UNMOUNT) for a volume Windows did not close.
    if (exit && (exit.code === 14 || exit.code === 15 || /hibernat|unclean|Metadata kept in Windows cache/i.test(output))) {
      throw conflict(`the guest's NTFS volume was not shut down cleanly by Windows (hibernated or Fast Startup); shut Windows down fully first (${describeExit()})`);
    }
    throw e;
  }

  const abandon = async (why: string): Promise<never> => {
    await daemon.stop('SIGKILL');
    const detached = await runHelper(fusermount, ['-u', '-z', '-q', '--', root], { acceptExitCodes: 'any' });
    try {
      await finish();
    } catch (e) {
      throw new OpenemError('INTERNAL', `${why}; then (fusermount -uz exit ${detached.code}): ${(e as Error)?.message ?? e}`);
    }
    throw new OpenemError('INTERNAL', why);
  };

  return {
    path: root,
    async unmount() {
      const deadline = Date.now() + UNMOUNT_RETRY_MS;
      for (;;) {
        if (exit) return abandon(`ntfs-3g on ${target.imagePath} ended before it was unmounted (${describeExit()})`);
        const r = await runHelper(fusermount, ['-u', '--', root], { acceptExitCodes: 'any' });
        if (r.code === 0) break;
        if (Date.now() > deadline) return abandon(`fusermount -u ${root} failed: ${r.stderr.trim()}`);
        await sleep(100);
      }
      const timer = new AbortController();
      const timedOut = sleep(EXIT_TIMEOUT_MS, 'timeout' as const, { signal: timer.signal }).catch(() => undefined);
      const first = await Promise.race([daemon.exited, timedOut]);
      timer.abort();
      if (first === 'timeout') return abandon(`ntfs-3g did not exit within ${EXIT_TIMEOUT_MS / 1000} s of unmounting ${target.imagePath}; killed`);
      exit = await daemon.exited;
      if (exit.code !== 0) return abandon(`ntfs-3g on ${target.imagePath} ended badly (${describeExit()})`);
      await finish();
    },
  };
}

/** Polls until `root` is a different filesystem than its parent folder (mounted), with a deadline. */
async function waitUntilMounted(folder: string, root: string, hasExited: () => boolean, describeExit: () => string): Promise<void> {
  const parentDev = (await stat(folder)).dev;
  const deadline = Date.now() + MOUNT_TIMEOUT_MS;
  for (;;) {
    if (hasExited()) throw new OpenemError('INTERNAL', `ntfs-3g could not mount the guest's NTFS volume (${describeExit()})`);
    if ((await stat(root)).dev !== parentDev) return;
    if (Date.now() > deadline) throw new OpenemError('INTERNAL', `ntfs-3g did not mount the guest's NTFS volume within ${MOUNT_TIMEOUT_MS / 1000} s`);
    await sleep(20);
  }
}
