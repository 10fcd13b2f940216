import type { Repository, RestorePointManifest } from '../../repository/repository.js';

/** What one VM restore point's manifest amounts to in the repository (EM's BackupFile sizes, backupfiles_id.md). */
export interface BackupFileFigures {
  /** Compressed bytes of the blocks this point added: all of a Full's, an Increment's beyond its parent's. */
  backupSize: number;
  /** Bytes of data the point describes (every non-hole block, at its raw length). */
  dataSize: number;
  /** Raw bytes of the blocks this point added. */
  addedRaw: number;
  /** Provisioned size of the point's disks. */
  provisioned: number;
}

/** Sizes of a manifest from the repository's index; the parent is what an Increment was taken against. */
export async function backupFileFigures(repository: Repository, manifest: RestorePointManifest, parent?: RestorePointManifest): Promise<BackupFileFigures> {
  const before = new Set<string>();
  if (manifest.pointType === 'Increment' && parent) for (const d of parent.disks) for (const h of d.blocks) if (h) before.add(h);
  const all = manifest.disks.flatMap((d) => d.blocks.filter((h): h is string => h !== null));
  const sizes = await repository.blockSizes(all);
  const added = new Set(all.filter((h) => !before.has(h)));
  let backupSize = 0;
  let addedRaw = 0;
  for (const h of added) {
    backupSize += sizes.get(h)?.stored ?? 0;
    addedRaw += sizes.get(h)?.raw ?? 0;
  }
  const dataSize = all.reduce((n, h) => n + (sizes.get(h)?.raw ?? 0), 0);
  return { backupSize, dataSize, addedRaw, provisioned: manifest.disks.reduce((n, d) => n + d.size, 0) };
}
