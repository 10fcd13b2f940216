import type { AppContext } from '../app-services.js';
import type { BlockSource } from '../../disks/block-source.js';
import { GuestVolumeSet, volumesOfDisk, type GuestVolume, type LocatedGuestPath, type VolumeCandidate } from '../../guestfs/guest-volumes.js';
import { openGuestFilesystems } from '../../guestfs/open-guest-filesystem.js';
import { readMountedDevices } from '../../guestfs/windows-mounted-devices.js';
import type { RestorePointManifest } from '../../repository/repository.js';
import { notFound, OpenemError } from '../../errors.js';

/** A restore point's guest filesystems, read block by block straight from the repository's packs. */
export interface RestorePointFilesystem {
  manifest: RestorePointManifest;
  volumes: GuestVolumeSet;
  /** The volume `/` names (GuestVolumeSet.primary); what is on it says what the guest is. */
  primary: GuestVolume;
  /** The volume and in-volume path a guest path (`/etc/hosts`, `C:/Users`) names; NOT_FOUND for a drive the guest lacks. */
  locate(guestPath: string): LocatedGuestPath;
  close(): Promise<void>;
}

/** Every filesystem on every disk of a manifest, as volumes; the disks that hold none are closed again. */
export async function openManifestVolumes(
  manifest: RestorePointManifest,
  openDisk: (diskName: string) => Promise<BlockSource>,
): Promise<{ volumes: GuestVolumeSet; reasons: string[]; close(): Promise<void> }> {
  const open: BlockSource[] = [];
  const close = async () => {
    for (const disk of open.splice(0)) await disk.close();
  };
  const found: VolumeCandidate[] = [];
  const reasons: string[] = [];
  try {
    for (const d of manifest.disks) {
      const disk = await openDisk(d.name);
      open.push(disk);
      const r = await openGuestFilesystems(disk);
      if (r.found.length === 0) {
        reasons.push(`${d.name}: ${r.reason}`);
        open.pop();
        await disk.close();
      }
      found.push(...(await volumesOfDisk(d.name, r.found, r.table)));
    }
    const system = found.find((v) => v.windowsRole === 'system');
    const devices = system ? await readMountedDevices(system.fs) : undefined;
    if (devices?.reason) reasons.push(`drive letters handed out in order: ${devices.reason}`);
    return { volumes: new GuestVolumeSet(found, devices?.letters), reasons, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Opens every filesystem on every disk of the point (ARCHITECTURE.md: mounts and catalog restores read one file
 * through the block source, never restoring the whole disk). Opening reads only each disk's partition table and each
 * filesystem's superblock and group descriptors, so it costs the same for a 64 GiB disk as for a small one.
 */
export async function openRestorePointFilesystem(ctx: AppContext, vmRestorePointId: string): Promise<RestorePointFilesystem> {
  const manifest = await ctx.repository.readManifest(vmRestorePointId);
  if (!manifest) throw notFound(`VM restore point ${vmRestorePointId} has no data in the repository`);
  const opened = await openManifestVolumes(manifest, (name) => ctx.repository.openDisk(manifest, name));
  const primary = opened.volumes.primary;
  if (!primary) {
    await opened.close();
    throw new OpenemError(
      'NOT_IMPLEMENTED',
      `No guest filesystem openem can read in VM restore point ${vmRestorePointId} (openem reads ext4 and NTFS): ${opened.reasons.join('; ') || 'no disks'}`,
    );
  }
  return {
    manifest,
    volumes: opened.volumes,
    primary,
    locate: (guestPath) => {
      const located = opened.volumes.locate(guestPath);
      if (!located) throw notFound(`${guestPath} names no volume of VM restore point ${vmRestorePointId}`);
      return located;
    },
    close: opened.close,
  };
}
