import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import { OpenemError } from '../../errors.js';
import { resolveGroupId } from '../../host/host-group.js';

/** How FLR folders are shared on the host: with nobody but the server's user, or with one group. */
export interface FlrAccess {
  /** FUSE allow_other + default_permissions: other users may enter, and the kernel enforces the guest's modes. */
  shared: boolean;
  /** The group that may read the FLR root (when shared). */
  gid?: number;
}

/**
 * Makes the FLR root private (issue 9 §2): 0700, so no other local user can even list it. With a group
 * configured (`flrGroup`), it becomes 0750 owned by that group, and folders are mounted with allow_other and
 * default_permissions: members enter, and inside, the guest's own mode bits and owners decide (a guest's
 * /etc/shadow, 0640 root:shadow, stays unreadable to them unless they are in that gid on this host too).
 * The mode is set on an existing root too, so tightening the option takes effect at the next start.
 *
 * A shared root must lie outside the data directory: that one is 0700 (issue 9 §9), so nobody could reach a
 * root inside it, and opening it for the group would expose its folder names.
 */
export async function prepareFlrRoot(root: string, group: string | undefined, dataDir: string): Promise<FlrAccess> {
  const gid = group === undefined || group === '' ? undefined : await resolveGroupId(group);
  if (gid !== undefined && isInside(root, dataDir)) {
    throw new OpenemError(
      'BAD_REQUEST',
      `flrGroup (OPENEM_FLR_GROUP=${group}) needs an FLR root outside the private data directory ${dataDir}: ` +
        'set OPENEM_FLR_ROOT (flrRoot) to a folder such as /srv/openem-flr whose parents the group can enter',
    );
  }
  await mkdir(root, { recursive: true, mode: 0o700 });
  if (gid === undefined) {
    await chmod(root, 0o700);
    return { shared: false };
  }
  await chown(root, (await stat(root)).uid, gid);
  await chmod(root, 0o750);
  return { shared: true, gid };
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
