import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlatformFile } from './platform-file.js';
import { datastoreDir } from './platform-file.js';
import { thisBootTag, thisHostTag, thisMachineTag } from '../../host/host-identity.js';
import { isProcessAlive } from '../../host/process-alive.js';

/**
 * Staging (and deletion) folders, and the new images of a full restore, are named
 * `.staging-m<machine tag>-b<boot tag>-<pid>-<uuid>`: the owner's machine, boot and pid let a second process on the
 * same datastores (the CLI while the server runs, another node on a shared NFS folder) tell a crash's leftovers
 * from work in progress. Only the machine that made a folder can judge it, so another machine's folders are never
 * removed here; one this machine made in an earlier boot is a leftover whatever its pid (after a reboot a live
 * process may have that pid, and kept a multi-GiB image for good). Older names: `.staging-h<host tag>-<pid>-…`
 * (host tag of host-identity.ts, boot included: judged by pid in the boot that made it, kept after it) and
 * `.staging-<pid>-…` (this host's, judged by pid).
 */
const STAGING_PREFIX = '.staging-';

export function stagingFolderName(pid: number, uuid: string): string {
  return `${STAGING_PREFIX}m${thisMachineTag()}-b${thisBootTag()}-${pid}-${uuid}`;
}

/**
 * A staging folder is stale when it is this machine's and its boot has ended or its owner process is gone, or
 * when its name carries no owner.
 */
export function isStaleStagingFolder(name: string): boolean {
  if (!name.startsWith(STAGING_PREFIX)) return false;
  const rest = name.slice(STAGING_PREFIX.length);
  const current = /^m([0-9a-f]{12})-b([0-9a-f]{12})-(\d+)-/.exec(rest);
  if (current) {
    if (current[1] !== thisMachineTag()) return false;
    if (current[2] !== thisBootTag()) return true;
    return isGone(Number(current[3]));
  }
  const m = /^(?:h([0-9a-f]{12})-)?(\d+)-/.exec(rest);
  if (!m) return true;
  if (m[1] !== undefined && m[1] !== thisHostTag()) return false;
  return isGone(Number(m[2]));
}

function isGone(pid: number): boolean {
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
