import { link, lstat, lutimes, mkdir, open, readdir, readlink, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { badRequest, OpenemError } from '../../errors.js';

const CHUNK = 1024 * 1024;
const HOLE_GRAIN = 64 * 1024;

/**
 * Copies the host folder `from` into `to` (a mounted guest filesystem) with ordinary file-system calls: folders,
 * files (all-zero stretches left as holes, so sparse stays sparse), symlinks as stored, hard links as links, and
 * modification and access times. A tree that does not fit is NO_SPACE; a FIFO, socket or device is BAD_REQUEST.
 */
export async function copyTreeInto(from: string, to: string): Promise<void> {
  const linked = new Map<string, string>();
  try {
    await copyFolder(from, to, linked);
  } catch (e) {
    if ((e as NodeJS.ErrnoException)?.code === 'ENOSPC') throw new OpenemError('NO_SPACE', `the files in ${from} do not fit the disk; choose a larger disk size`, { cause: e });
    throw e;
  }
}

async function copyFolder(from: string, to: string, linked: Map<string, string>): Promise<void> {
  for (const name of await readdir(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    const st = await lstat(src);
    if (st.isDirectory()) {
      await mkdir(dst);
      await copyFolder(src, dst, linked);
      await utimes(dst, st.atime, st.mtime);
    } else if (st.isSymbolicLink()) {
      await symlink(await readlink(src), dst);
      await lutimes(dst, st.atime, st.mtime);
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? linked.get(key) : undefined;
      if (first) {
        await link(first, dst);
        continue;
      }
      if (st.nlink > 1) linked.set(key, dst);
      await copyFileKeepingHoles(src, dst, st.size);
      await utimes(dst, st.atime, st.mtime);
    } else {
      throw badRequest(`'${src}' is neither a file, a folder nor a symlink`);
    }
  }
}

async function copyFileKeepingHoles(src: string, dst: string, size: number): Promise<void> {
  const input = await open(src, 'r');
  try {
    const output = await open(dst, 'wx');
    try {
      const buf = Buffer.alloc(CHUNK);
      for (let at = 0; at < size; at += CHUNK) {
        const { bytesRead } = await input.read(buf, 0, CHUNK, at);
        if (bytesRead === 0) break;
        for (let g = 0; g < bytesRead; g += HOLE_GRAIN) {
          const piece = buf.subarray(g, Math.min(bytesRead, g + HOLE_GRAIN));
          if (piece.some((b) => b !== 0)) await output.write(piece, 0, piece.length, at + g);
        }
      }
      await output.truncate(size);
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}
