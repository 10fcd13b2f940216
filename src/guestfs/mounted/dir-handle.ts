import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, rmdir, type FileHandle } from 'node:fs/promises';
import { badRequest } from '../../errors.js';

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** ext4, NTFS and most Linux filesystems (NAME_MAX). */
const MAX_NAME_BYTES = 255;

/**
 * An open folder of a mounted guest filesystem whose entries are reached as `/proc/self/fd/<fd>/<name>`
 * (Linux): like openat(2), the path the kernel resolves stays short however deep the folder is (guest paths
 * may be far longer than PATH_MAX), and no guest symlink is ever followed — folders are opened O_NOFOLLOW
 * one level at a time, and every call acts on the name itself (lstat, lchown, lutimes, rename, unlink).
 * The name is a Buffer throughout, so any byte but `/` and NUL survives.
 */
export class DirHandle {
  private constructor(
    private readonly fh: FileHandle,
    /** The folder's guest path, for messages only. */
    readonly display: string,
  ) {}

  /** Opens a host folder (a mount point). */
  static async open(hostPath: string, display = '/'): Promise<DirHandle> {
    return new DirHandle(await open(hostPath, DIR_FLAGS), display);
  }

  /** The folder's descriptor. */
  get fd(): number {
    return this.fh.fd;
  }

  /** The path that names this folder itself. */
  get self(): Buffer {
    return Buffer.from(`/proc/self/fd/${this.fh.fd}`);
  }

  /** The path of entry `name` in this folder. */
  child(name: Buffer): Buffer {
    if (name.length === 0 || name.length > MAX_NAME_BYTES || name.includes(0x2f) || name.includes(0) || name.equals(DOT) || name.equals(DOTDOT)) {
      throw badRequest(`invalid name in guest folder ${this.display}: ${JSON.stringify(name.toString('utf8'))} (${name.length} bytes)`);
    }
    return Buffer.concat([this.self, SLASH, name]);
  }

  /** Opens sub-folder `name`; ELOOP/ENOTDIR when it is a symlink or not a folder. */
  async openChild(name: Buffer): Promise<DirHandle> {
    const display = (this.display === '/' ? '/' : `${this.display}/`) + name.toString('utf8');
    return new DirHandle(await open(this.child(name), DIR_FLAGS), display);
  }

  /** Creates sub-folder `name` (root-owned, 0755 whatever the umask, as `mkdir -p` would) and opens it. */
  async makeFolder(name: Buffer): Promise<DirHandle> {
    await mkdir(this.child(name), 0o700);
    try {
      const sub = await this.openChild(name);
      await sub.fh.chmod(0o755);
      return sub;
    } catch (e) {
      await rmdir(this.child(name));
      throw e;
    }
  }

  /** lstat of entry `name`, `undefined` when there is none. */
  async lstatChild(name: Buffer): Promise<Stats | undefined> {
    try {
      return await lstat(this.child(name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** The names in this folder, as bytes. */
  names(): Promise<Buffer[]> {
    return readdir(this.self, { encoding: 'buffer' });
  }

  /** Owner, mode and times of the folder itself (through its descriptor, so nothing is followed). */
  async setAttributes(a: { mode?: number; uid?: number; gid?: number; mtime: Date }): Promise<void> {
    if (a.uid !== undefined && a.gid !== undefined) await this.fh.chown(a.uid, a.gid);
    if (a.mode !== undefined) await this.fh.chmod(a.mode & 0o7777);
    await this.fh.utimes(utimesSeconds(a.mtime), utimesSeconds(a.mtime));
  }

  /** The folder's own access and modification times, to put back after a failed write changed them. */
  async times(): Promise<{ atime: number; mtime: number }> {
    const st = await this.fh.stat();
    return { atime: st.atimeMs / 1000, mtime: st.mtimeMs / 1000 };
  }

  async setTimes(t: { atime: number; mtime: number }): Promise<void> {
    await this.fh.utimes(t.atime, t.mtime);
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

const SLASH = Buffer.from('/');
const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

/**
 * A time for utimes(2) as seconds: libuv truncates the fraction to nanoseconds, so `.678` would land on
 * `.677999999`; half a microsecond more keeps the millisecond a reader sees exact.
 */
export function utimesSeconds(d: Date): number {
  return d.getTime() / 1000 + 5e-7;
}
