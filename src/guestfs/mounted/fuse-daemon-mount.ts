import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { OpenemError } from '../../errors.js';
import { runHelper, type HelperProcess } from '../../host/helper-process.js';

/** The daemon answers its first request within this time, or the mount has failed. */
const MOUNT_TIMEOUT_MS = 20_000;
/** fusermount -u is refused while a file in the mount is open; the writer closes everything first. */
const UNMOUNT_RETRY_MS = 10_000;
/** After unmounting, the daemon writes its caches back and closes the filesystem; a big write takes a while. */
const EXIT_TIMEOUT_MS = 300_000;
const OUTPUT_TAIL = 4096;

export type DaemonExit = { code: number | null; signal: string | null };

/** A guest filesystem mounted read-write by a FUSE daemon (fuse2fs, ntfs-3g) for the time of one write. */
export interface FuseDaemonMount {
  /** The root folder of the mounted filesystem (inside a fresh 0700 folder nobody else can enter). */
  readonly path: string;
  /** Unmounts, waits for the daemon to exit cleanly (everything written back) and removes what the mount made. */
  unmount(): Promise<void>;
}

export interface FuseDaemonSpec {
  /** The daemon, started in the foreground as our child (helper-process.ts), mounting on `root`. */
  daemon: HelperProcess;
  /** Its name in messages (`fuse2fs`, `ntfs-3g`). */
  tool: string;
  /** What it mounts, in messages (`the guest filesystem`). */
  what: string;
  imagePath: string;
  /** The private folder holding `root`. */
  folder: string;
  root: string;
  fusermount: string;
  /** Removes what the mount made once the daemon is gone (folders, a loop device). */
  finish(): Promise<void>;
  /** How much of the daemon's output a message quotes (default all that is kept). */
  quoteChars?: number;
  /** The error a daemon that could not mount is reported as, when the tool's exit says more than the default. */
  mountRefusal?(exit: DaemonExit | undefined, output: string, describeExit: () => string): Error | undefined;
}

/**
 * Watches a FUSE daemon through a mount's life: waits until `root` is mounted (or the daemon exits), and unmounts
 * with fusermount, then waits for the daemon's clean exit. Any failure still ends with no daemon, no mount (a dead
 * one is detached lazily) and nothing of `finish` left; then the failure is thrown.
 */
export async function superviseFuseDaemon(spec: FuseDaemonSpec): Promise<FuseDaemonMount> {
  const { daemon, tool, imagePath, root, fusermount, finish } = spec;
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString('utf8')).slice(-OUTPUT_TAIL));
  daemon.child.stdout?.on('data', keep);
  daemon.child.stderr?.on('data', keep);
  let exit: DaemonExit | undefined;
  void daemon.exited.then((e) => (exit = e));
  const describeExit = () => `exit ${exit?.code ?? exit?.signal}` + (output.trim() ? `: ${spec.quoteChars ? output.trim().slice(-spec.quoteChars) : output.trim()}` : '');
  const detachLazily = () => runHelper(fusermount, ['-u', '-z', '-q', '--', root], { acceptExitCodes: 'any' });

  try {
    await waitUntilMounted(spec, () => exit !== undefined, describeExit);
  } catch (e) {
    // The daemon is gone, so a mount it made is dead: detach it lazily, as a failed unmount does.
    await daemon.stop('SIGKILL');
    await detachLazily();
    await finish();
    throw spec.mountRefusal?.(exit, output, describeExit) ?? e;
  }

  const abandon = async (why: string): Promise<never> => {
    await daemon.stop('SIGKILL');
    const detached = await detachLazily();
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
        // The daemon only exits once unmounted: one that ended before leaves a dead mount and unflushed writes.
        if (exit) return abandon(`${tool} on ${imagePath} ended before it was unmounted (${describeExit()})`);
        const r = await runHelper(fusermount, ['-u', '--', root], { acceptExitCodes: 'any' });
        if (r.code === 0) break;
        if (Date.now() > deadline) return abandon(`fusermount -u ${root} failed: ${r.stderr.trim()}`);
        await sleep(100);
      }
      const timer = new AbortController();
      const timedOut = sleep(EXIT_TIMEOUT_MS, 'timeout' as const, { signal: timer.signal }).catch(() => undefined);
      const first = await Promise.race([daemon.exited, timedOut]);
      timer.abort();
      if (first === 'timeout') return abandon(`${tool} did not exit within ${EXIT_TIMEOUT_MS / 1000} s of unmounting ${imagePath}; killed`);
      exit = await daemon.exited;
      if (exit.code !== 0) return abandon(`${tool} on ${imagePath} ended badly (${describeExit()})`);
      await finish();
    },
  };
}

/** Polls until `root` is a different filesystem than its parent folder (mounted), with a deadline. */
async function waitUntilMounted(spec: FuseDaemonSpec, hasExited: () => boolean, describeExit: () => string): Promise<void> {
  const parentDev = (await stat(spec.folder)).dev;
  const deadline = Date.now() + MOUNT_TIMEOUT_MS;
  for (;;) {
    if (hasExited()) throw new OpenemError('INTERNAL', `${spec.tool} could not mount ${spec.what} (${describeExit()})`);
    if ((await stat(spec.root)).dev !== parentDev) return;
    if (Date.now() > deadline) throw new OpenemError('INTERNAL', `${spec.tool} did not mount ${spec.what} within ${MOUNT_TIMEOUT_MS / 1000} s`);
    await sleep(20);
  }
}
