import { constants } from 'node:fs';
import { lchown, lutimes, mkdir, open, rmdir, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { OpenemError } from '../../errors.js';
import type { GuestItem } from '../guest-writer.js';
import { utimesSeconds, type DirHandle } from './dir-handle.js';
import type { HardLinks, ItemRoute } from './hard-links.js';

const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export interface ItemWriteContext {
  /** Called with each chunk's length once it is written. */
  wrote(bytes: number): void;
  signal?: AbortSignal;
  /** The filesystem's own steps for each new file and folder (NTFS: compression, streams, Windows times). */
  finisher?: ItemFinisher;
  /** The write's hard links: without it, every name of a hard-linked file is written as a file of its own. */
  hardLinks?: HardLinks;
}

/** A new file or folder while it is being written, as a finisher sees it. */
export interface NewEntry {
  /** `/proc/<pid>/fd/<n>`: names the new entry itself (never its name) for this process and the helpers it starts. */
  fdPath: string;
  /** The entry's own path (`/proc/self/fd/<folder>/<name>`), a Buffer for fs calls only. */
  path: Buffer;
}

/**
 * Steps a filesystem adds around each item the generic writer creates; both run before the item is renamed into
 * place, so a failure in them is a failed write like any other (the temporary item is removed).
 */
export interface ItemFinisher {
  /** The entry exists and is still empty (a folder: before its children are written). */
  begin?(entry: NewEntry, item: GuestItem): Promise<void>;
  /** The file's data (or the folder's children) and its mode, owner and mtime are written. */
  end?(entry: NewEntry, item: GuestItem, ctx: ItemWriteContext): Promise<void>;
  /**
   * Creates symlink `item` as entry `name` of `dir` the filesystem's own way (NTFS: the restore point's junction or
   * Windows symlink); `false` when it has none for this item, and symlink(2) makes it.
   */
  createLink?(dir: DirHandle, name: Buffer, item: Extract<GuestItem, { type: 'symlink' }>): Promise<boolean>;
}

/** The descriptor path of `fd` that other processes can open too (the helpers run as the same user). */
export function descriptorPath(fd: number): string {
  return `/proc/${process.pid}/fd/${fd}`;
}

/**
 * Creates `item` as the new entry `name` of `dir` (the name must not exist): a file's data ranges streamed to
 * their offsets, the rest left as holes, then truncated to its size; a symlink with its exact target; a folder
 * with everything below it. Owner, mode and mtime are set last (a folder's after its contents, so filling it
 * does not change them). A further name of a hard-linked file is linked to the first (hard-links.ts). `route` is
 * where the entry is, from the folder of the write's top item (whose name comes first). Returns the number of
 * items created.
 */
export async function writeItem(dir: DirHandle, name: Buffer, item: GuestItem, ctx: ItemWriteContext, route: ItemRoute = [name]): Promise<number> {
  ctx.signal?.throwIfAborted();
  const path = dir.child(name);
  if (item.type === 'symlink') {
    if (await ctx.finisher?.createLink?.(dir, name, item)) return 1;
    await symlink(item.target, path);
    if (item.attrs.uid !== undefined && item.attrs.gid !== undefined) await lchown(path, item.attrs.uid, item.attrs.gid);
    await lutimes(path, utimesSeconds(item.attrs.mtime), utimesSeconds(item.attrs.mtime));
    return 1;
  }
  if (item.type === 'file') {
    const claim = item.hardLink === undefined ? undefined : ctx.hardLinks?.claim(item.hardLink, route);
    if (claim && !claim.first) {
      await ctx.hardLinks!.link(await claim.route, dir, name);
      return 1;
    }
    try {
      await writeFile(path, item, ctx);
    } catch (e) {
      claim?.written(e);
      throw e;
    }
    claim?.written();
    return 1;
  }
  await mkdir(path, 0o700);
  const sub = await dir.openChild(name);
  try {
    const entry = { fdPath: descriptorPath(sub.fd), path };
    await ctx.finisher?.begin?.(entry, item);
    let n = 1;
    // Small files go several at a time: each costs a handful of FUSE round trips, which overlap. Larger files
    // and folders go one at a time, so at most SMALL_FILE_BYTES x SMALL_FILES_IN_FLIGHT is buffered.
    await forEachInFlight(item.children, (child) => (child.type === 'file' && child.size <= SMALL_FILE_BYTES ? SMALL_FILES_IN_FLIGHT : 1), async (child) => {
      const written = await writeItem(sub, child.name, child, ctx, [...route, child.name]);
      n += written;
    });
    await sub.setAttributes(item.attrs);
    await ctx.finisher?.end?.(entry, item, ctx);
    return n;
  } finally {
    await sub.close();
  }
}

/** Creates the new file at `path` with its data, owner, mode, mtime and the finisher's steps. */
async function writeFile(path: Buffer, item: Extract<GuestItem, { type: 'file' }>, ctx: ItemWriteContext): Promise<void> {
  const fh = await open(path, NEW_FILE, 0o600);
  try {
    const entry = { fdPath: descriptorPath(fh.fd), path };
    await ctx.finisher?.begin?.(entry, item);
    await writeFileData(fh, item, ctx);
    // chown before chmod: chown clears set-uid and set-gid bits. A new file is already ours (root's).
    const { uid, gid, mode } = item.attrs;
    if (uid !== undefined && gid !== undefined && (uid !== process.getuid?.() || gid !== process.getgid?.())) await fh.chown(uid, gid);
    if (mode !== undefined) await fh.chmod(mode & 0o7777);
    await fh.utimes(utimesSeconds(item.attrs.mtime), utimesSeconds(item.attrs.mtime));
    await ctx.finisher?.end?.(entry, item, ctx);
  } finally {
    await fh.close();
  }
}

const SMALL_FILE_BYTES = 256 * 1024;
const SMALL_FILES_IN_FLIGHT = 8;

/**
 * Runs `work` for each item, keeping up to `limit(item)` in flight (the limit of the item about to start).
 * After the first failure nothing new starts; it is thrown once everything in flight has settled, so that a
 * clean-up never races a write.
 */
async function forEachInFlight<T>(items: T[], limit: (item: T) => number, work: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for (const item of items) {
    while (running.size > 0 && running.size >= limit(item)) await Promise.race(running);
    if (failure) break;
    const p: Promise<void> = work(item).then(
      () => void running.delete(p),
      (error) => {
        running.delete(p);
        failure ??= { error };
      },
    );
    running.add(p);
  }
  await Promise.all(running);
  if (failure) throw failure.error;
}

/** What writeFileData writes: a file's (or a named stream's) size, where it holds data, and those bytes. */
export interface FileData {
  name: Buffer;
  size: number;
  dataRanges: { start: number; end: number }[];
  read(range: { start: number; end: number }): Promise<AsyncIterable<unknown>>;
}

/** Writes only the data ranges, each at its offset, one bounded chunk at a time; holes stay holes. */
export async function writeFileData(fh: FileHandle, item: FileData, ctx: ItemWriteContext): Promise<void> {
  for (const range of item.dataRanges) {
    let position = range.start;
    for await (const chunk of await item.read(range)) {
      ctx.signal?.throwIfAborted();
      const buf = chunk as Buffer;
      if (position + buf.length > range.end) throw shortOrLong(item, range, position + buf.length);
      for (let done = 0; done < buf.length; ) {
        const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
        done += bytesWritten;
      }
      position += buf.length;
      ctx.wrote(buf.length);
    }
    if (position !== range.end) throw shortOrLong(item, range, position);
  }
  // The size, and a hole at the end: only needed when the last data range does not end the file.
  if (item.dataRanges.at(-1)?.end !== item.size) await fh.truncate(item.size);
}

function shortOrLong(item: { name: Buffer }, range: { start: number; end: number }, reached: number): OpenemError {
  return new OpenemError('INTERNAL', `the restore point gave ${reached - range.start} bytes for bytes ${range.start}-${range.end} of ${item.name.toString('utf8')}`);
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
