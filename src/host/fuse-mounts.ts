import { readFile, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { OpenemError } from '../errors.js';
import { findTool } from './find-tool.js';
import { runHelper } from './helper-process.js';

/** One FUSE mount from /proc/self/mountinfo. */
export interface FuseMountEntry {
  /** The mount point as the kernel has it (bytes: it may not be UTF-8). */
  pathBytes: Buffer;
  /** The mount point as a string, or undefined when its bytes are not UTF-8 (then no tool can be given it). */
  path?: string;
  fstype: string;
}

/** mountinfo escapes space, tab, newline and backslash in paths as `\ooo` (octal). */
function unescapeMountinfo(field: string): Buffer {
  const raw = Buffer.from(field, 'latin1');
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5c && i + 3 < raw.length && /^[0-7]{3}$/.test(raw.subarray(i + 1, i + 4).toString('latin1'))) {
      out.push(parseInt(raw.subarray(i + 1, i + 4).toString('latin1'), 8));
      i += 3;
    } else {
      out.push(raw[i]);
    }
  }
  return Buffer.from(out);
}

/** Parses mountinfo text (read as latin1, so every byte survives) into its FUSE mounts. */
export function parseFuseMounts(mountinfo: string): FuseMountEntry[] {
  const mounts: FuseMountEntry[] = [];
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 6 || fields.length < dash + 2) continue;
    const fstype = fields[dash + 1];
    if (fstype !== 'fuse' && fstype !== 'fuseblk' && !fstype.startsWith('fuse.')) continue;
    const pathBytes = unescapeMountinfo(fields[4]);
    const text = pathBytes.toString('utf8');
    mounts.push({ pathBytes, path: Buffer.from(text, 'utf8').equals(pathBytes) ? text : undefined, fstype });
  }
  return mounts;
}

function isUnder(path: Buffer, root: string): boolean {
  const r = Buffer.from(root.endsWith(sep) ? root : root + sep, 'utf8');
  return path.length > r.length && path.subarray(0, r.length).equals(r);
}

/** FUSE mounts of this mount namespace below any of `roots`, deepest first (so nested ones go before their parents). */
export async function fuseMountsUnder(roots: readonly string[]): Promise<FuseMountEntry[]> {
  const mounts = parseFuseMounts(await readFile('/proc/self/mountinfo', 'latin1'));
  return mounts.filter((m) => roots.some((r) => isUnder(m.pathBytes, r))).sort((a, b) => b.pathBytes.length - a.pathBytes.length);
}

/**
 * The errors the kernel answers for a FUSE mount whose daemon is gone: ECONNABORTED once the connection was
 * aborted by the daemon's death, ENOTCONN ("Transport endpoint is not connected") after that.
 */
export function isDeadMountError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOTCONN' || code === 'ECONNABORTED';
}

/** True when the mount's daemon is gone. */
export async function isDeadFuseMount(path: string | Buffer): Promise<boolean> {
  try {
    await stat(path);
    return false;
  } catch (e) {
    return isDeadMountError(e);
  }
}

/**
 * Detaches a FUSE mount lazily (`fusermount -uz`, argv only: fuse-native's own unmount runs it through a shell
 * with the path in the command line). Works on a dead mount and on a busy one.
 */
export async function detachFuseMount(path: string): Promise<void> {
  const tool = (await findTool('fusermount')) ?? (await findTool('fusermount3'));
  if (tool) {
    await runHelper(tool, ['-uz', '--', path]);
    return;
  }
  if (process.getuid?.() === 0) {
    await runHelper('umount', ['-l', '--', path], { debianPackage: 'mount' });
    return;
  }
  throw new OpenemError('UNAVAILABLE', `cannot unmount ${path}: fusermount was not found (apt-get install fuse)`);
}
