import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlatformFile } from './platform-file.js';
import { datastoreDir } from './platform-file.js';
import { thisHostTag } from '../../host/host-identity.js';
import { isProcessAlive } from '../../host/process-alive.js';

/**
 * Staging (and deletion) folders are named `.staging-h<host tag>-<pid>-<uuid>`: the owner's host and pid let a
 * second process on the same datastores (the CLI while the server runs, another node on a shared NFS folder) tell
 * a crash's leftovers from work in progress. Only the host that made a folder can tell whether its pid is alive,
 * so another host's folders are never removed here. An older `.staging-<pid>-<uuid>` counts as this host's.
 */
const STAGING_PREFIX = '.staging-';

export function stagingFolderName(pid: number, uuid: string): string {
  return `${STAGING_PREFIX}h${thisHostTag()}-${pid}-${uuid}`;
}

/** A staging folder is stale when it is this host's and its owner process is gone, or its name carries no owner. */
export function isStaleStagingFolder(name: string): boolean {
  if (!name.startsWith(STAGING_PREFIX)) return false;
  const m = /^(?:h([0-9a-f]{12})-)?(\d+)-/.exec(name.slice(STAGING_PREFIX.length));
  if (!m) return true;
  if (m[1] !== undefined && m[1] !== thisHostTag()) return false;
  const pid = Number(m[2]);
  return pid !== process.pid && !isProcessAlive(pid);
}

/**
 * Removes the new disk images (`.staging-…img`, local-disk-replacement.ts) that a crashed full restore left in
 * these VM folders; the disks beside them were never touched. Returns the files removed.
 */
export async function removeStaleStagingFiles(vmDirs: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of vmDirs) {
    for (const name of await readdir(dir)) {
      if (!isStaleStagingFolder(name)) continue;
      await rm(join(dir, name), { force: true });
      removed.push(join(dir, name));
    }
  }
  return removed;
}

/** Removes what a crashed restore or deletion left behind; returns the folders removed. */
export async function removeStaleStagingFolders(dataDir: string, file: PlatformFile): Promise<string[]> {
  const removed: string[] = [];
  for (const ds of file.datastores) {
    const root = datastoreDir(dataDir, ds);
    let names: string[];
    try {
      names = await readdir(root);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    for (const name of names) {
      if (!isStaleStagingFolder(name)) continue;
      await rm(join(root, name), { recursive: true, force: true });
      removed.push(join(root, name));
    }
  }
  return removed;
}
