import { access as accessFile, constants, mkdir, rmdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { posixModeOf, type GuestEntry, type GuestFilesystem } from '../../guestfs/guest-filesystem.js';
import { isOpenemError, OpenemError } from '../../errors.js';
import { detachFuseMount } from '../../host/fuse-mounts.js';
import type { FlrAccess } from './flr-root.js';

/** The part of fuse-native (a CommonJS addon without types) that openem uses. */
interface FuseStat { mtime: Date; atime: Date; ctime: Date; nlink: number; size: number; mode: number; uid: number; gid: number }
type Cb<T> = (code: number, value?: T) => void;
interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}
interface FuseModule {
  new (mnt: string, ops: Record<string, unknown>, opts: Record<string, unknown>): FuseInstance;
  unmount(mnt: string, cb: (err: Error | null) => void): void;
  ENOENT: number;
  ENOTDIR: number;
  EISDIR: number;
  EIO: number;
  EINVAL: number;
}

/** A served FUSE folder; `close` unmounts it and removes the empty mount point. */
export interface FuseFolder {
  path: string;
  close(): Promise<void>;
}

const MOUNT_TIMEOUT_MS = 10_000;
const UNMOUNT_TIMEOUT_MS = 10_000;

function loadFuse(): FuseModule {
  const Fuse = createRequire(import.meta.url)('fuse-native') as FuseModule;
  // fuse-native's static unmount (also used by instance unmount and by mount's `force`) runs
  // `fusermount -uz "<path>"` through a shell: a VM named `a$(…)` would run a command as the server's user.
  // Replaced once with the argv-only detach.
  Fuse.unmount = (mnt, cb) => void detachFuseMount(mnt).then(() => cb(null), (e: Error) => cb(e));
  return Fuse;
}

function withTimeout<T>(what: string, ms: number, start: (done: (err: Error | null, v?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new OpenemError('UNAVAILABLE', `${what} did not answer within ${ms / 1000} s`)), ms);
    start((err, v) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(v as T);
    });
  });
}

function statOf(e: GuestEntry): FuseStat {
  // Read-only folder: write bits are cleared so tools do not offer to edit (writes fail anyway: no write ops).
  return { mtime: e.mtime, atime: e.mtime, ctime: e.mtime, nlink: 1, size: e.size, mode: posixModeOf(e) & ~0o222, uid: e.uid ?? 0, gid: e.gid ?? 0 };
}

/**
 * Serves a guest filesystem read-only at `path` through FUSE (issue #5 §1, seed 002's C:\VeeamFLR\<vm-name>).
 * Every callback answers asynchronously from the same block reader the API uses, so the event loop never blocks;
 * `onAccess` lets the mount count FUSE use against its idle time. Throws with the reason when FUSE is unavailable
 * (no /dev/fuse, the addon does not load, no permission); the caller keeps the mount without a folder.
 */
export async function openFuseFolder(path: string, fs: GuestFilesystem, log: Logger, onAccess: () => void, access: FlrAccess): Promise<FuseFolder> {
  await accessFile('/dev/fuse', constants.R_OK | constants.W_OK).catch(() => {
    throw new OpenemError('UNAVAILABLE', '/dev/fuse is missing or not accessible');
  });
  let Fuse: FuseModule;
  try {
    Fuse = loadFuse();
  } catch (e) {
    throw new OpenemError('UNAVAILABLE', `the fuse-native addon did not load: ${(e as Error).message}`, { cause: e });
  }
  const errno = (e: unknown): number => {
    if (isOpenemError(e)) return e.code === 'NOT_FOUND' ? Fuse.ENOENT : e.code === 'BAD_REQUEST' ? Fuse.ENOTDIR : Fuse.EIO;
    log.warn({ err: e, folder: path }, 'FUSE read failed');
    return Fuse.EIO;
  };
  const answer = <T>(cb: Cb<T>, work: () => Promise<T>) => {
    onAccess();
    work().then((v) => cb(0, v), (e) => cb(errno(e)));
  };
  const ops = {
    getattr: (p: string, cb: Cb<FuseStat>) => {
      onAccess();
      // A missing name is ENOENT (ls and cp probe names that do not exist), not an I/O error.
      fs.stat(p).then((e) => (e ? cb(0, statOf(e)) : cb(Fuse.ENOENT)), (e) => cb(errno(e)));
    },
    readdir: (p: string, cb: Cb<string[]>) => answer(cb, async () => (await fs.list(p)).map((e) => e.name)),
    readlink: (p: string, cb: Cb<string>) => answer(cb, () => fs.readlink(p)),
    open: (_p: string, _flags: number, cb: Cb<number>) => cb(0, 0),
    release: (_p: string, _fd: number, cb: (code: number) => void) => cb(0),
    read: (p: string, _fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) => {
      onAccess();
      fs.read(p, pos, len).then(
        (data) => cb(data.copy(buf, 0, 0, Math.min(len, data.length))),
        (e) => cb(errno(e)),
      );
    },
  };

  await mkdir(path, { recursive: true, mode: 0o700 });
  // Private by default: without allow_other only the server's user may enter (issue 9 §2). Shared with a group:
  // allow_other lets others in, and default_permissions makes the kernel check the guest's modes and owners,
  // which this read-only filesystem reports as they are in the guest.
  const fuse = new Fuse(path, ops, {
    force: true, mkdir: true, fsname: 'openem', subtype: 'openem-flr',
    allowOther: access.shared, defaultPermissions: access.shared,
  });
  try {
    await withTimeout<void>('FUSE mount', MOUNT_TIMEOUT_MS, (done) => fuse.mount((err) => done(err)));
  } catch (e) {
    await rmdir(path).catch(() => undefined);
    throw new OpenemError('UNAVAILABLE', `FUSE mount failed: ${(e as Error).message}`, { cause: e });
  }
  let closed = false;
  return {
    path,
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await withTimeout<void>('FUSE unmount', UNMOUNT_TIMEOUT_MS, (done) => fuse.unmount((err) => done(err)));
      } catch (e) {
        // A busy folder (a shell inside it) refuses a plain unmount; detach it lazily so nothing is left mounted.
        log.warn({ err: e, folder: path }, 'FUSE unmount failed; detaching lazily');
        await withTimeout<void>('fusermount -uz', UNMOUNT_TIMEOUT_MS, (done) => Fuse.unmount(path, (err) => done(err))).catch((err) =>
          log.error({ err, folder: path }, 'FUSE folder could not be detached'),
        );
      }
      await rmdir(path).catch(() => undefined);
    },
  };
}
