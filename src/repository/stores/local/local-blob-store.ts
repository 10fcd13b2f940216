import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { badRequest, notFound } from '../../../errors.js';
import type { BlobStat, BlobStore, ByteRange } from '../../blob-store.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../../host/private-data-dir.js';
import { syncDirectory } from '../../../host/sync-directory.js';
import { isPageAligned, PAGE_SIZE } from '../../../disks/aligned-memory.js';

const TEMP_MARK = '.tmp-';

/**
 * A blob store in a local folder. `put` writes a temporary file next to the target, fsyncs it,
 * renames it into place and fsyncs the folder, so a crash leaves either nothing or the whole object
 * (plus possibly a `*.tmp-*` file, which `list` never shows).
 * An object whose first part is page-aligned memory (a pack buffer, `disks/aligned-memory.ts`) is written past the
 * page cache (O_DIRECT) up to its last whole page, the rest through the page cache: on this machine buffered writes of
 * 2 GiB cost 5-10 s of kernel CPU (page-cache copies and the throttled writeback of dirty pages, dd at load 3-4),
 * O_DIRECT 0.4-1.4 s, and a backup writes each pack once and does not read it back.
 */
export class LocalBlobStore implements BlobStore {
  private readonly knownDirs = new Set<string>();

  readonly location: string;

  constructor(location: string) {
    this.location = resolve(location);
  }

  private pathOf(key: string): string {
    if (key === '' || key.startsWith('/') || key.split('/').some((p) => p === '..' || p === '.' || p === '')) {
      throw badRequest(`invalid blob key "${key}"`);
    }
    return join(this.location, ...key.split('/'));
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    this.knownDirs.add(dir);
  }

  async put(key: string, data: Buffer | readonly Buffer[]): Promise<void> {
    const path = this.pathOf(key);
    const dir = dirname(path);
    await this.ensureDir(dir);
    const temp = `${path}${TEMP_MARK}${randomBytes(6).toString('hex')}`;
    await this.writeDurable(temp, Buffer.isBuffer(data) ? [data] : data);
    try {
      await rename(temp, path);
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw e;
    }
    await syncDirectory(dir);
  }

  private async writeDurable(temp: string, parts: readonly Buffer[]): Promise<void> {
    const direct = parts.length > 0 && parts[0].length >= DIRECT_MIN && isPageAligned(parts[0]) ? await openDirect(temp) : undefined;
    const fh = direct ?? (await open(temp, 'wx', PRIVATE_FILE_MODE));
    let tail: FileHandle | undefined;
    try {
      if (direct) {
        const whole = parts[0].length - (parts[0].length % PAGE_SIZE);
        await writeAll(fh, [parts[0].subarray(0, whole)]);
        // What follows the last whole page, through a buffered descriptor: O_DIRECT writes only whole pages.
        const rest = [parts[0].subarray(whole), ...parts.slice(1)].filter((p) => p.length > 0);
        if (rest.length > 0) {
          tail = await open(temp, constants.O_WRONLY | constants.O_APPEND);
          await writeAll(tail, rest);
        }
      } else await writeAll(fh, parts);
      // One inode: this fsync also makes the tail's pages durable.
      await fh.sync();
    } catch (e) {
      await tail?.close().catch(() => undefined);
      await fh.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw e;
    }
    await tail?.close();
    await fh.close();
  }

  private async openForReading(key: string): Promise<FileHandle> {
    try {
      return await open(this.pathOf(key), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`blob ${key} not found in ${this.location}`);
      throw e;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    const fh = await this.openForReading(key);
    try {
      const offset = range?.offset ?? 0;
      const length = range?.length ?? (await fh.stat()).size - offset;
      // A fresh ArrayBuffer per read, so callers may transfer it to a worker without copying.
      const buf = Buffer.from(new ArrayBuffer(Math.max(0, length)));
      const done = await readFully(fh, buf, length, offset);
      return done === length ? buf : buf.subarray(0, done);
    } finally {
      await fh.close();
    }
  }

  async readInto(key: string, range: ByteRange, into: Uint8Array): Promise<number> {
    if (into.length < range.length) throw badRequest(`${range.length} bytes of blob ${key} do not fit in ${into.length}`);
    const fh = await this.openForReading(key);
    try {
      return await readFully(fh, into, range.length, range.offset);
    } finally {
      await fh.close();
    }
  }

  localFile(key: string): string {
    return this.pathOf(key);
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    try {
      const st = await stat(this.pathOf(key));
      return { size: st.size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  async list(prefix: string): Promise<string[]> {
    const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    const root = base === '' ? this.location : this.pathOf(base);
    let entries;
    try {
      entries = await readdir(root, { recursive: true, withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const keys: string[] = [];
    for (const ent of entries) {
      if (!ent.isFile() || ent.name.includes(TEMP_MARK)) continue;
      const parent = (ent as unknown as { parentPath?: string; path?: string }).parentPath ?? (ent as unknown as { path: string }).path;
      const rel = join(parent, ent.name).slice(this.location.length + 1).split(sep).join('/');
      keys.push(rel);
    }
    return keys;
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}

/** Reads `length` bytes at `offset` into `buf`, fewer only at the end of the file; returns how many. */
async function readFully(fh: FileHandle, buf: Uint8Array, length: number, offset: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Objects smaller than this (indexes, manifests) are written through the page cache. */
const DIRECT_MIN = 1024 * 1024;

/** A new file opened to bypass the page cache, or undefined where its filesystem refuses O_DIRECT (tmpfs). */
async function openDirect(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT, PRIVATE_FILE_MODE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
    await unlink(path).catch(() => undefined);
    return undefined;
  }
}

async function writeAll(fh: FileHandle, parts: readonly Buffer[]): Promise<void> {
  // writev in batches; it may write partially, so continue from where it stopped.
  let pending = parts.filter((p) => p.length > 0);
  while (pending.length > 0) {
    const batch = pending.slice(0, 512);
    let { bytesWritten } = await fh.writev(batch);
    const rest: Buffer[] = [];
    for (const b of batch) {
      if (bytesWritten >= b.length) bytesWritten -= b.length;
      else {
        rest.push(b.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    pending = [...rest, ...pending.slice(batch.length)];
  }
}

