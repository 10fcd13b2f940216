import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { GuestEntry, GuestFilesystem } from '../../guestfs/guest-filesystem.js';
import type { GuestWriteItem } from '../../guestfs/ext4-writer.js';
import { guestParentAndName, joinGuestPath } from '../../guestfs/guest-path.js';

/** Progress in bytes of file data copied out of the restore point. */
export type ExtractProgress = (bytesDone: number, bytesTotal: number) => void;

/**
 * Plans what to write for one restored path: the entry itself and, for a folder, everything below it, each with
 * the mode, owner and mtime it had at backup time. `targetPath` is where the entry goes in the live guest (the
 * same path, or a `RESTORED_` sibling when the client asked not to overwrite).
 */
export async function planGuestItems(fs: GuestFilesystem, entry: GuestEntry, targetPath: string): Promise<{ entries: { source: GuestEntry; target: string }[]; bytes: number }> {
  const entries = [{ source: entry, target: targetPath }];
  if (entry.type === 'dir') {
    for await (const e of fs.walk(entry.path)) {
      entries.push({ source: e, target: targetPath + e.path.slice(entry.path === '/' ? 0 : entry.path.length) });
    }
  }
  const kept = entries.filter((x) => x.source.type !== 'other');
  return { entries: kept, bytes: kept.reduce((n, x) => n + (x.source.type === 'file' ? x.source.size : 0), 0) };
}

/**
 * Copies each file's bytes out of the restore point into `workDir` (streamed, one file at a time) and returns the
 * items for `writeGuestFiles`. Folders come before their contents, as the walk yields them.
 */
export async function extractGuestItems(
  fs: GuestFilesystem,
  plan: { entries: { source: GuestEntry; target: string }[]; bytes: number },
  workDir: string,
  onProgress: ExtractProgress,
  signal?: AbortSignal,
): Promise<GuestWriteItem[]> {
  const items: GuestWriteItem[] = [];
  let done = 0;
  let n = 0;
  for (const { source: e, target } of plan.entries) {
    signal?.throwIfAborted();
    const base = { guestPath: target, mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, mtime: e.mtime };
    if (e.type === 'dir') items.push({ ...base, type: 'dir' });
    else if (e.type === 'symlink') items.push({ ...base, type: 'symlink', linkTarget: await fs.readlink(e.path) });
    else if (e.type === 'file') {
      const file = join(workDir, `f${n++}`);
      await pipeline(await fs.createReadStream(e.path), createWriteStream(file), { signal });
      done += e.size;
      onProgress(done, plan.bytes);
      items.push({ ...base, type: 'file', sourceFile: file });
    }
  }
  return items;
}

/** Where a restore that must not overwrite puts an existing name: `RESTORED_<name>` beside it (as Veeam's "Keep"). */
export function keepBothPath(path: string): string {
  const { parent, name } = guestParentAndName(path);
  return joinGuestPath(parent, `RESTORED_${name}`);
}
