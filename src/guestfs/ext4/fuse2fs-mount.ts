import { mkdir, mkdtemp, rm, rmdir, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OpenemError } from '../../errors.js';
import { findTool, requireTool } from '../../host/find-tool.js';
import { runHelper, spawnHelper, type HelperProcess } from '../../host/helper-process.js';

/** fuse2fs answers its first request within this time, or the mount has failed. */
const MOUNT_TIMEOUT_MS = 20_000;
/** fusermount -u is refused while a file in the mount is open; the writer closes everything first. */
const UNMOUNT_RETRY_MS = 10_000;
/** After unmounting, fuse2fs writes its caches back and closes the filesystem; a big write takes a while. */
const EXIT_TIMEOUT_MS = 300_000;
const OUTPUT_TAIL = 4096;

export interface Fuse2fsMount {
  /** The root folder of the mounted filesystem (inside a 0700 folder nobody else can enter). */
  readonly path: string;
  /** Unmounts, waits for fuse2fs to exit cleanly (everything written back) and removes the folders. */
  unmount(): Promise<void>;
}

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
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString('utf8')).slice(-OUTPUT_TAIL));
  daemon.child.stdout?.on('data', keep);
  daemon.child.stderr?.on('data', keep);
  let exit: { code: number | null; signal: string | null } | undefined;
  void daemon.exited.then((e) => (exit = e));
  const describeExit = () => `exit ${exit?.code ?? exit?.signal}` + (output.trim() ? `: ${output.trim()}` : '');

  try {
    await waitUntilMounted(folder, root, () => exit !== undefined, describeExit);
  } catch (e) {
    // The daemon is gone, so a mount it made is dead: detach it lazily, as a failed unmount does.
    await daemon.stop('SIGKILL');
    await runHelper(fusermount, ['-u', '-z', '-q', '--', root], { acceptExitCodes: 'any' });
    await removeFolders();
    throw e;
  }

  /** A failed unmount still ends with no daemon, no mount and no folder; then the failure is thrown. */
  const abandon = async (why: string): Promise<never> => {
    await daemon.stop('SIGKILL');
    const detached = await runHelper(fusermount, ['-u', '-z', '-q', '--', root], { acceptExitCodes: 'any' });
    try {
      await removeFolders();
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
        // fuse2fs only exits once unmounted: one that ended before leaves a dead mount and unflushed writes.
        if (exit) return abandon(`fuse2fs on ${target.imagePath} ended before it was unmounted (${describeExit()})`);
        const r = await runHelper(fusermount, ['-u', '--', root], { acceptExitCodes: 'any' });
        if (r.code === 0) break;
        if (Date.now() > deadline) return abandon(`fusermount -u ${root} failed: ${r.stderr.trim()}`);
        await sleep(100);
      }
      const timer = new AbortController();
      const timedOut = sleep(EXIT_TIMEOUT_MS, 'timeout' as const, { signal: timer.signal }).catch(() => undefined);
      const first = await Promise.race([daemon.exited, timedOut]);
      timer.abort();
      if (first === 'timeout') return abandon(`fuse2fs did not exit within ${EXIT_TIMEOUT_MS / 1000} s of unmounting ${target.imagePath}; killed`);
      exit = await daemon.exited;
      if (exit.code !== 0) return abandon(`fuse2fs on ${target.imagePath} ended badly (${describeExit()})`);
      await removeFolders();
    },
  };
}

/** Polls until `root` is a different filesystem than its parent folder (mounted), with a deadline. */
async function waitUntilMounted(folder: string, root: string, hasExited: () => boolean, describeExit: () => string): Promise<void> {
  const parentDev = (await stat(folder)).dev;
  const deadline = Date.now() + MOUNT_TIMEOUT_MS;
  for (;;) {
    if (hasExited()) throw new OpenemError('INTERNAL', `fuse2fs could not mount the guest filesystem (${describeExit()})`);
    if ((await stat(root)).dev !== parentDev) return;
    if (Date.now() > deadline) throw new OpenemError('INTERNAL', `fuse2fs did not mount the guest filesystem within ${MOUNT_TIMEOUT_MS / 1000} s`);
    await sleep(20);
  }
}
