import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlatformFile } from './platform-file.js';
import { datastoreDir } from './platform-file.js';
import { isProcessAlive } from '../../host/process-alive.js';

/**
 * Staging (and deletion) folders are named `.staging-<pid>-<uuid>`: the owner's pid lets a second process
 * on the same data directory (the CLI while the server runs) tell a crash's leftovers from work in progress.
 */
const STAGING_PREFIX = '.staging-';

export function stagingFolderName(pid: number, uuid: string): string {
  return `${STAGING_PREFIX}${pid}-${uuid}`;
}

/** A staging folder is stale when its owner process is gone or its name does not carry an owner. */
export function isStaleStagingFolder(name: string): boolean {
  if (!name.startsWith(STAGING_PREFIX)) return false;
  const m = /^(\d+)-/.exec(name.slice(STAGING_PREFIX.length));
  if (!m) return true;
  const pid = Number(m[1]);
  return pid !== process.pid && !isProcessAlive(pid);
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
