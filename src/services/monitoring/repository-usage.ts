import { readdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';

export interface RepositoryUsage {
  /** Size of the file system holding the repository (statfs). */
  capacity: number;
  /** Space unprivileged writers can still use there (statfs bavail). */
  freeSpace: number;
  /** Bytes of the repository's own files: packs, index, manifests, config. */
  backupSize: number;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await folderBytes(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

/** Capacity and free space of the repository's file system and the size of what the repository holds. */
export async function repositoryUsage(location: string): Promise<RepositoryUsage> {
  const fs = await statfs(location);
  return { capacity: fs.blocks * fs.bsize, freeSpace: fs.bavail * fs.bsize, backupSize: await folderBytes(location) };
}
