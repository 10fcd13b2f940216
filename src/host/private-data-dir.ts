import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeadMountError } from './fuse-mounts.js';

/**
 * The data directory holds password hashes (state.db), VM disks and backups: folders 0700 and files 0600
 * (issue 9 §9). Modes are passed explicitly at creation; a umask can only clear bits, never add them.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/**
 * A data directory others may enter but not list: `serve --demo kvm` runs its libvirt daemon as nobody, who must
 * pass through the data directory to its own folder in it. Everything inside stays 0700/0600.
 */
export const PASSABLE_DIR_MODE = 0o711;

const keeps = (mode: number) => mode === PRIVATE_DIR_MODE || mode === PASSABLE_DIR_MODE;

/** Creates `dir` (and missing parents) private, and makes `dir` itself private if it already existed (0711 stays). */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (!keeps((await stat(dir)).mode & 0o7777)) await chmod(dir, PRIVATE_DIR_MODE);
}

export function ensurePrivateDirSync(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (!keeps(statSync(dir).mode & 0o7777)) chmodSync(dir, PRIVATE_DIR_MODE);
}

/**
 * Brings a data directory made by an older openem (0644 files in 0755 folders) to 0700/0600, `root` itself to
 * `rootMode` (0700, or PASSABLE_DIR_MODE). Symlinks are not followed and other filesystems mounted inside (FUSE
 * folders) are not entered: their modes are the guest's. Returns how many entries changed.
 */
export async function tightenPrivateTree(root: string, rootMode: number = PRIVATE_DIR_MODE): Promise<number> {
  const top = await lstat(root);
  let changed = 0;
  const visit = async (path: string): Promise<void> => {
    let st;
    try {
      st = await lstat(path);
    } catch (e) {
      // A dead FUSE mount that could not be detached holds nothing of ours.
      if (isDeadMountError(e) || (e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    if (st.dev !== top.dev || st.isSymbolicLink()) return;
    const wanted = path === root ? rootMode : st.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE;
    if ((st.mode & 0o7777) !== wanted) {
      await chmod(path, wanted);
      changed++;
    }
    if (!st.isDirectory()) return;
    for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(root);
  return changed;
}
