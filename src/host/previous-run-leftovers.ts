import { readdir, rm, rmdir } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Logger } from 'pino';
import { detachFuseMount, fuseMountsUnder, isDeadFuseMount } from './fuse-mounts.js';

/**
 * Folders under the data directory that hold only one server run's scratch work (guest restores' staging and
 * private filesystem-driver mounts): whatever is in them at start was left by a killed predecessor.
 */
export const WORK_FOLDER_NAMES = ['flr-work'] as const;
/** Scratch folders in the data directory named by prefix (demo VM sources built at first start). */
const WORK_FOLDER_PREFIXES = ['.demo-src-'] as const;

export interface LeftoversRemoved {
  /** FUSE mounts whose daemon was gone, detached. */
  detachedMounts: string[];
  /** Live FUSE mounts of another process, left alone. */
  liveMounts: string[];
  removedFolders: string[];
}

/**
 * What a killed server leaves, removed at `serve` start (issue 9 §8): dead FUSE mounts under the data directory
 * and the FLR root ("Transport endpoint is not connected"; their daemon, in-process or a helper, died with the
 * server), then the work folders, then the empty mount points in the FLR root, so new mounts get their plain
 * names. A mount whose daemon still answers belongs to someone else and is left alone, and so is any work folder
 * that still holds one (removing it would delete through the mount).
 */
export async function removePreviousRunLeftovers(dirs: { dataDir: string; flrRoot: string }, log: Logger): Promise<LeftoversRemoved> {
  const result: LeftoversRemoved = { detachedMounts: [], liveMounts: [], removedFolders: [] };
  for (const m of await fuseMountsUnder([dirs.dataDir, dirs.flrRoot])) {
    if (m.path === undefined) {
      log.warn({ mountPoint: m.pathBytes.toString('hex') }, 'a FUSE mount under the data directory has a non-UTF-8 path; unmount it by hand');
      continue;
    }
    if (!(await isDeadFuseMount(m.path))) {
      result.liveMounts.push(m.path);
      continue;
    }
    await detachFuseMount(m.path);
    result.detachedMounts.push(m.path);
  }
  const stillMounted = (await fuseMountsUnder([dirs.dataDir])).map((m) => m.pathBytes.toString('utf8'));
  for (const folder of await workFolders(dirs.dataDir)) {
    if (stillMounted.some((p) => p === folder || p.startsWith(folder + sep))) {
      log.warn({ folder }, 'a work folder holds a live FUSE mount; left in place');
      continue;
    }
    await rm(folder, { recursive: true, force: true });
    result.removedFolders.push(folder);
  }
  await removeEmptyMountPoints(dirs.flrRoot, result);
  if (result.detachedMounts.length || result.removedFolders.length) log.warn(result, 'removed what a previous run of the server left');
  if (result.liveMounts.length) log.warn({ liveMounts: result.liveMounts }, 'FUSE mounts of another process are under the data directory; left alone');
  return result;
}

async function workFolders(dataDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dataDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .filter((n) => (WORK_FOLDER_NAMES as readonly string[]).includes(n) || WORK_FOLDER_PREFIXES.some((p) => n.startsWith(p)))
    .map((n) => join(dataDir, n));
}

/** Mount points of ended mounts are empty folders; anything else in the FLR root is not ours to touch. */
async function removeEmptyMountPoints(flrRoot: string, result: LeftoversRemoved): Promise<void> {
  let names: string[];
  try {
    names = await readdir(flrRoot);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const name of names) {
    const folder = join(flrRoot, name);
    if (result.liveMounts.includes(folder)) continue;
    try {
      await rmdir(folder);
      result.removedFolders.push(folder);
    } catch {
      // not empty, not a folder, or busy: not a leftover mount point
    }
  }
}
