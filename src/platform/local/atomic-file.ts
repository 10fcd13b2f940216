import { open, rename, link, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { PRIVATE_FILE_MODE } from '../../host/private-data-dir.js';
import { syncDirectory } from '../../host/sync-directory.js';

async function writeDurableTemp(path: string, data: string | Buffer): Promise<string> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomUUID()}`);
  const fh = await open(tmp, 'wx', PRIVATE_FILE_MODE);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return tmp;
}

/**
 * Replaces `path` so that readers see either the old or the new content, never a torn file:
 * write a temp file in the same folder, fsync it, rename it over, fsync the folder.
 */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = await writeDurableTemp(path, data);
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDirectory(dirname(path));
}

/**
 * Creates `path` with `data` only if it does not exist yet, atomically (link(2) refuses an existing name).
 * Returns false when someone else created it first — the server and the CLI may both open a fresh data dir.
 */
export async function createFileExclusive(path: string, data: string | Buffer): Promise<boolean> {
  const tmp = await writeDurableTemp(path, data);
  try {
    await link(tmp, path);
    await syncDirectory(dirname(path));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp);
  }
}
