import { corrupt } from '../../errors.js';
import type { GuestVolume } from '../../guestfs/guest-volumes.js';
import type { RestorePointFilesystem } from '../guest-restore/restore-point-filesystem.js';
import type { FuseFolder } from './fuse-folder.js';
import type { OpenMount } from './mount-types.js';

/** A mount this node serves: the restore point's filesystem it reads, its FUSE folder if it made one, and its use. */
export interface LiveMount extends OpenMount {
  reader: RestorePointFilesystem;
  fuse?: FuseFolder;
  rowTouchedAt: number;
  /** Downloads and restores in progress: a busy mount never expires under them. */
  busy: number;
}

/** Each volume's root folder, read once at mount time (the mount's FSRoots). */
export async function rootsOf(volumes: GuestVolume[]): Promise<OpenMount['roots']> {
  const out: OpenMount['roots'] = [];
  for (const volume of volumes) {
    const entry = await volume.fs.stat('/');
    if (!entry) throw corrupt(`volume ${volume.id} has no root folder`);
    out.push({ volume, entry });
  }
  return out;
}
