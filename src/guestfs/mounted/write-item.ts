import { constants } from 'node:fs';
import { lchown, lutimes, mkdir, open, rmdir, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { OpenemError } from '../../errors.js';
import type { GuestItem } from '../guest-writer.js';
import { utimesSeconds, type DirHandle } from './dir-handle.js';

const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export interface ItemWriteContext {
  /** Called with each chunk's length once it is written. */
  wrote(bytes: number): void;
  signal?: AbortSignal;
}

/**
 * Creates `item` as the new entry `name` of `dir` (the name must not exist): a file's data ranges streamed to
 * their offsets, the rest left as holes, then truncated to its size; a symlink with its exact target; a folder
 * with everything below it. Owner, mode and mtime are set last (a folder's after its contents, so filling it
 * does not change them). Returns the number of items created.
 */
export async function writeItem(dir: DirHandle, name: Buffer, item: GuestItem, ctx: ItemWriteContext): Promise<number> {
  ctx.signal?.throwIfAborted();
  const path = dir.child(name);
  if (item.type === 'symlink') {
    await symlink(item.target, path);
    await lchown(path, item.attrs.uid, item.attrs.gid);
    await lutimes(path, utimesSeconds(item.attrs.mtime), utimesSeconds(item.attrs.mtime));
    return 1;
  }
  if (item.type === 'file') {
    const fh = await open(path, NEW_FILE, 0o600);
    try {
      await writeFileData(fh, item, ctx);
      // chown before chmod: chown clears set-uid and set-gid bits.
      await fh.chown(item.attrs.uid, item.attrs.gid);
      await fh.chmod(item.attrs.mode & 0o7777);
      await fh.utimes(utimesSeconds(item.attrs.mtime), utimesSeconds(item.attrs.mtime));
    } finally {
      await fh.close();
    }
    return 1;
  }
  await mkdir(path, 0o700);
  const sub = await dir.openChild(name);
  try {
    let n = 1;
    for (const child of item.children) n += await writeItem(sub, child.name, child, ctx);
    await sub.setAttributes(item.attrs);
    return n;
  } finally {
    await sub.close();
  }
}

/** Writes only the data ranges, each at its offset, one bounded chunk at a time; holes stay holes. */
async function writeFileData(fh: FileHandle, item: Extract<GuestItem, { type: 'file' }>, ctx: ItemWriteContext): Promise<void> {
  for (const range of item.dataRanges) {
    let position = range.start;
    for await (const chunk of await item.read(range)) {
      ctx.signal?.throwIfAborted();
      const buf = chunk as Buffer;
      for (let done = 0; done < buf.length; ) {
        const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
        done += bytesWritten;
      }
      position += buf.length;
      ctx.wrote(buf.length);
    }
    if (position !== range.end) {
      throw new OpenemError('INTERNAL', `restore point gave ${position - range.start} bytes for range ${range.start}-${range.end} of ${item.name.toString('utf8')}`);
    }
  }
  await fh.truncate(item.size);
}

/** Removes entry `name` of `dir` and, for a folder, everything below it (symlinks are removed, never followed). */
export async function removeTree(dir: DirHandle, name: Buffer): Promise<void> {
  const st = await dir.lstatChild(name);
  if (!st) return;
  if (!st.isDirectory()) {
    await unlink(dir.child(name));
    return;
  }
  const sub = await dir.openChild(name);
  try {
    for (const child of await sub.names()) await removeTree(sub, child);
  } finally {
    await sub.close();
  }
  await rmdir(dir.child(name));
}
