import type { AppContext } from '../app-services.js';
import type { BlockSource } from '../../disks/block-source.js';
import type { GuestFilesystem } from '../../guestfs/guest-filesystem.js';
import { openGuestFilesystem } from '../../guestfs/open-guest-filesystem.js';
import type { RestorePointManifest } from '../../repository/repository.js';
import { notFound, OpenemError } from '../../errors.js';

/** A restore point's guest filesystem, read block by block straight from the repository's packs. */
export interface RestorePointFilesystem {
  manifest: RestorePointManifest;
  /** The disk (by name in the manifest) that holds the filesystem. */
  diskName: string;
  fs: GuestFilesystem;
  close(): Promise<void>;
}

/**
 * Opens the first disk of the point that holds an ext4 filesystem (ARCHITECTURE.md: mounts and catalog
 * restores read one file through the block source, never restoring the whole disk). Opening reads only the
 * partition table, the superblock and the group descriptors, so it costs the same for a 64 GiB disk as for
 * a small one.
 */
export async function openRestorePointFilesystem(ctx: AppContext, vmRestorePointId: string): Promise<RestorePointFilesystem> {
  const manifest = await ctx.repository.readManifest(vmRestorePointId);
  if (!manifest) throw notFound(`VM restore point ${vmRestorePointId} has no data in the repository`);
  const reasons: string[] = [];
  for (const d of manifest.disks) {
    const disk: BlockSource = await ctx.repository.openDisk(manifest, d.name);
    try {
      const opened = await openGuestFilesystem(disk);
      if (opened.fs) return { manifest, diskName: d.name, fs: opened.fs, close: () => disk.close() };
      reasons.push(`${d.name}: ${opened.reason}`);
    } catch (e) {
      await disk.close();
      throw e;
    }
    await disk.close();
  }
  throw new OpenemError(
    'NOT_IMPLEMENTED',
    `No guest filesystem openem can read in VM restore point ${vmRestorePointId} (only ext4 guests are supported): ${reasons.join('; ') || 'no disks'}`,
  );
}
