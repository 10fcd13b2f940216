import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { setAttribute } from 'fs-xattr';
import { afterFailure } from '../mounted/after-failure.js';
import { DirHandle } from '../mounted/dir-handle.js';
import { descriptorPath } from '../mounted/write-item.js';
import { mountWithNtfs3g, type NtfsVolumeTarget } from './ntfs3g-mount.js';
import { checkNtfsClean } from './ntfsfix-check.js';

/** The extended attribute through which ntfs-3g reads and sets an entry's security descriptor. */
export const NTFS_ACL_XATTR = 'system.ntfs_acl';
/** Opens a file only to name it: no data is read, no symlink followed, a FIFO does not block. */
export const NAME_ONLY_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** A live item's descriptor as it was before a PermissionsOnly restore replaced it, found again by its live name. */
export interface ReplacedDescriptor {
  path: Buffer[];
  old: Buffer;
}

/**
 * Where a PermissionsOnly restore records, durably and before it sets the first one, the descriptors it is about to
 * replace: a server killed part-way leaves no other trace of them, and whichever node takes its work over puts them
 * back from it (putBackNtfsDescriptors). Written and read in batches, so neither side holds them all.
 */
export interface DescriptorJournal {
  /** A new record, empty and not complete: a server killed now had set nothing. */
  begin(): Promise<void>;
  /** More of the descriptors the restore will replace. */
  add(replaced: ReplacedDescriptor[]): Promise<void>;
  /** Every descriptor the restore will replace is recorded, durably; only then is the first set. */
  complete(): Promise<void>;
  /** The recorded descriptors, a batch at a time. */
  batches(): AsyncIterable<ReplacedDescriptor[]>;
  /** Every descriptor was set, or put back after a failure: the record is not needed any more. */
  clear(): Promise<void>;
}

/**
 * Puts back descriptors a PermissionsOnly restore killed part-way had recorded (DescriptorJournal): each live item
 * still there by its recorded name gets its old descriptor again (those the run had not reached yet already have
 * it). The volume is mounted and checked as for a restore. Returns how many were set.
 */
export async function putBackNtfsDescriptors(target: NtfsVolumeTarget, replaced: AsyncIterable<ReplacedDescriptor[]>): Promise<number> {
  const mount = await mountWithNtfs3g(target);
  let failure: unknown;
  let root: DirHandle | undefined;
  let count = 0;
  try {
    root = await DirHandle.open(mount.path);
    for await (const batch of replaced) {
      await putBackDescriptors(undefined, root, batch);
      count += batch.length;
    }
  } catch (e) {
    failure = e;
  }
  await afterFailure(failure, async () => root?.close());
  await afterFailure(failure, () => mount.unmount());
  await afterFailure(failure, () => checkNtfsClean(target));
  if (failure !== undefined) throw failure;
  return count;
}

/**
 * Puts replaced descriptors back, last first, each entry found again under `root` by its live name: after a failed
 * restore (`failure`, reported with any put-back that fails too, afterFailure) or from a journal after a kill.
 */
export async function putBackDescriptors(failure: unknown | undefined, root: DirHandle, undo: ReplacedDescriptor[]): Promise<void> {
  for (const u of [...undo].reverse()) {
    await afterFailure(failure, async () => {
      const handles: DirHandle[] = [];
      try {
        let dir = root;
        for (const part of u.path.slice(0, -1)) handles.push((dir = await dir.openChild(part)));
        const last = u.path[u.path.length - 1];
        const st = await dir.lstatChild(last);
        const fh = st?.isDirectory() ? await dir.openChild(last) : await open(dir.child(last), NAME_ONLY_FLAGS);
        try {
          await setAttribute(descriptorPath(fh.fd), NTFS_ACL_XATTR, u.old);
        } finally {
          await fh.close();
        }
      } finally {
        for (const h of handles.reverse()) await h.close();
      }
    });
  }
}
