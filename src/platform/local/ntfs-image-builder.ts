import { mkdtemp, rm, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OpenemError } from '../../errors.js';
import { findTool } from '../../host/find-tool.js';
import { runHelper, spawnHelper, type HelperProcess } from '../../host/helper-process.js';
import { copyTreeInto } from './copy-tree-into.js';
import { requireTool, runTool } from './external-tool.js';

const MOUNT_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 300_000;
const SECTOR = 512;

/** mkntfs and ntfs-3g from Debian's ntfs-3g package; fails early with a message naming it if they are missing. */
export async function requireNtfs3g(): Promise<{ mkntfs: string; ntfs3g: string; losetup: string; fusermount: string }> {
  const [mkntfs, ntfs3g, losetup] = await Promise.all([requireTool('mkntfs', 'ntfs-3g'), requireTool('ntfs-3g', 'ntfs-3g'), requireTool('losetup', 'mount')]);
  const fusermount = (await findTool('fusermount')) ?? (await requireTool('fusermount3', 'fuse3'));
  return { mkntfs, ntfs3g, losetup, fusermount };
}

/**
 * Builds an NTFS volume of `bytes` at byte `offset` of an existing image, holding a copy of `fromDir`: a loop device
 * over just that window (`losetup --offset --sizelimit`), mkntfs on it, then the tree written through ntfs-3g with
 * file-system calls (never a command line with a guest name in it), then `extras` on the mounted volume (what a
 * host folder cannot hold: compressed folders, named streams). The loop device is detached and the volume
 * unmounted (ntfs-3g exited, everything written) before this returns, also when it fails.
 */
export async function buildNtfsInImage(image: string, offset: number, bytes: number, fromDir: string, label: string, extras?: (root: string) => Promise<void>): Promise<void> {
  const tools = await requireNtfs3g();
  const loop = (await runTool(tools.losetup, ['--find', '--show', '--offset', String(offset), '--sizelimit', String(bytes), '--', image])).stdout.trim();
  if (!/^\/dev\/loop\d+$/.test(loop)) throw new OpenemError('INTERNAL', `losetup answered '${loop}' instead of a loop device`);
  try {
    const safeLabel = label.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 32) || 'Windows';
    // -p/-H/-S: where the partition starts and a geometry, so Windows could boot from the volume.
    await runTool(tools.mkntfs, ['-Q', '-F', '-L', safeLabel, '-p', String(offset / SECTOR), '-H', '255', '-S', '63', loop]);
    await withNtfs3gMounted(tools, loop, async (root) => {
      await copyTreeInto(fromDir, root);
      await extras?.(root);
    });
  } finally {
    await runTool(tools.losetup, ['-d', loop]);
  }
}

/** Mounts `device` with ntfs-3g in the foreground (our child, dying with us) on a private folder for `fn`'s time. */
async function withNtfs3gMounted(tools: { ntfs3g: string; fusermount: string }, device: string, fn: (root: string) => Promise<void>): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'openem-ntfs-build-'));
  let daemon: HelperProcess | undefined;
  let exited = false;
  let mounted = false;
  try {
    // `compression`: files written into a folder flagged compressed are compressed, as Windows does.
    daemon = await spawnHelper(tools.ntfs3g, ['-o', 'no_detach,compression', device, folder]);
    // no_detach keeps ntfs-3g our child (a forked daemon would lose the death signal) and makes it chatty: drain it.
    daemon.child.stdout?.resume();
    daemon.child.stderr?.resume();
    void daemon.exited.then(() => (exited = true));
    const parentDev = (await stat(join(folder, '..'))).dev;
    const deadline = Date.now() + MOUNT_TIMEOUT_MS;
    while ((await stat(folder)).dev === parentDev) {
      if (exited) throw new OpenemError('INTERNAL', `ntfs-3g could not mount the new NTFS volume on ${device}`);
      if (Date.now() > deadline) throw new OpenemError('INTERNAL', `ntfs-3g did not mount ${device} within ${MOUNT_TIMEOUT_MS / 1000} s`);
      await sleep(20);
    }
    mounted = true;
    await fn(folder);
    await runHelper(tools.fusermount, ['-u', '--', folder]);
    mounted = false;
    const timer = new AbortController();
    const timedOut = sleep(EXIT_TIMEOUT_MS, undefined, { signal: timer.signal }).catch(() => undefined);
    const result = await Promise.race([daemon.exited, timedOut]);
    timer.abort();
    if (!result) throw new OpenemError('INTERNAL', `ntfs-3g did not exit within ${EXIT_TIMEOUT_MS / 1000} s of unmounting ${device}`);
    if (result.code !== 0) throw new OpenemError('INTERNAL', `ntfs-3g on ${device} ended badly (exit ${result.code ?? result.signal})`);
  } finally {
    if (mounted) await runHelper(tools.fusermount, ['-u', '-z', '-q', '--', folder], { acceptExitCodes: 'any' });
    if (daemon && !exited) await daemon.stop('SIGKILL');
    await rmdir(folder).catch(async () => rm(folder, { recursive: true, force: true }));
  }
}
