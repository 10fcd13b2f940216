import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { rename, rmdir, statfs } from 'node:fs/promises';
import { badRequest, conflict, isOpenemError, OpenemError } from '../../errors.js';
import { displayGuestPath, type GuestWriteOptions, type GuestWriteRequest, type GuestWriteResult } from '../guest-writer.js';
import { DirHandle } from './dir-handle.js';
import { HardLinks } from './hard-links.js';
import { removeInterruptedWrites, temporaryEntryName } from './interrupted-writes.js';
import { SPARE_BLOCKS, spaceNeeded } from './space-needed.js';
import { removeTree, writeItem, type ItemFinisher } from './write-item.js';

/** How a filesystem differs from a POSIX one, for the generic writer. */
export interface MountedFolderDialect {
  finisher?: ItemFinisher;
  /**
   * The key two names share when the filesystem's users see them as the same name (NTFS: Windows matches names
   * case-insensitively, though ntfs-3g itself does not). An existing entry found by its key is the one the restore
   * replaces or keeps, under its own spelling; the restored item takes the restore point's spelling.
   */
  nameKey?(name: Buffer): string;
}

const KEEP_BOTH_PREFIX = Buffer.from('RESTORED_');

/**
 * Writes one restored item into a guest filesystem mounted at `mountPath`, atomically for that item:
 * 1. the parent folders are found (or noted as missing: a symlink or file in their place is a CONFLICT, never
 *    followed), and the free blocks and inodes are checked (statfs) before anything is written (NO_SPACE);
 * 2. missing parents are created, and the item is written completely under a temporary name in its folder (the
 *    further names of a hard-linked file linked to its first: hard-links.ts);
 * 3. a file or symlink is renamed over the existing one (one rename(2): the name shows the old item or the new,
 *    never neither); a folder, or an item of another kind than the existing one, is swapped with two renames
 *    (existing -> a temporary name, new -> the name; if the second fails the first is undone), then the old
 *    tree is removed.
 * A half-built item that a killed earlier write left in the same folder is removed first (interrupted-writes.ts).
 * Any failure before the swap removes the temporary item and the parents created, and puts the times of the
 * folder it wrote into back, so the guest is as it was (but for that folder's ctime).
 */
export async function writeIntoMountedFolder(
  mountPath: string,
  request: GuestWriteRequest,
  options: GuestWriteOptions = {},
  dialect: MountedFolderDialect = {},
): Promise<GuestWriteResult> {
  const handles: DirHandle[] = [await DirHandle.open(mountPath)];
  const created: Buffer[][] = [];
  const createdNames: Buffer[] = [];
  let restoreTimes = async () => undefined as void;
  try {
    const parent = [...request.parent];
    const existingParents = await openExistingParents(handles, parent, dialect);
    const allParents = existingParents === parent.length;
    if (allParents) {
      for (const line of await removeInterruptedWrites(handles[handles.length - 1])) options.log?.(line);
    }
    let name = request.item.name;
    let found = allParents ? await findChild(handles[handles.length - 1], name, dialect) : undefined;
    if (found && request.onExisting === 'keep-both') {
      name = Buffer.concat([KEEP_BOTH_PREFIX, name]);
      found = allParents ? await findChild(handles[handles.length - 1], name, dialect) : undefined;
    }
    const existing = found?.stats;
    const target = [...parent, name];
    if (existing?.isDirectory() && request.item.type !== 'dir') {
      throw conflict(`cannot replace folder ${displayGuestPath(target)} with a ${request.item.type}`);
    }
    const need = await checkSpace(mountPath, request, parent.length - existingParents);
    // Creating and removing a temporary entry changes its folder's times; a failed write puts them back.
    const deepestExisting = handles[handles.length - 1];
    const timesBefore = await deepestExisting.times();
    restoreTimes = () => deepestExisting.setTimes(timesBefore);

    for (let i = existingParents; i < parent.length; i++) {
      handles.push(await handles[handles.length - 1].makeFolder(parent[i]));
      created.push(parent.slice(0, i + 1));
      createdNames.push(parent[i]);
    }
    const dir = handles[handles.length - 1];
    let done = 0;
    const progress = { wrote: (n: number) => options.onProgress?.((done += n), need.dataBytes), signal: options.signal, finisher: dialect.finisher, hardLinks: new HardLinks(dir) };
    options.onProgress?.(0, need.dataBytes);

    const temp = temporaryName('restore');
    let written: number;
    try {
      written = await writeItem(dir, temp, request.item, progress);
    } catch (e) {
      await cleanUpAfter(e, () => removeTree(dir, temp));
      throw e;
    }
    // An existing entry spelt otherwise is swapped out too: renaming onto the new spelling would leave both.
    const respelt = found !== undefined && !found.name.equals(name);
    await commit(dir, temp, name, found?.name, existing !== undefined && (existing.isDirectory() || request.item.type === 'dir' || respelt));
    return { target, written, createdParents: created, replaced: existing !== undefined };
  } catch (e) {
    const error = asWriteError(e, displayGuestPath([...request.parent, request.item.name]));
    await cleanUpAfter(error, async () => {
      await removeCreatedParents(handles, createdNames);
      await restoreTimes();
    });
    throw error;
  } finally {
    for (const h of handles.reverse()) await h.close();
  }
}

/**
 * Opens the parent folders that exist, pushing a handle for each; returns how many exist. A parent found under
 * another spelling (dialect.nameKey) is used under its own: `parent` is updated in place.
 */
async function openExistingParents(handles: DirHandle[], parent: Buffer[], dialect: MountedFolderDialect): Promise<number> {
  for (let i = 0; i < parent.length; i++) {
    const dir = handles[handles.length - 1];
    const found = await findChild(dir, parent[i], dialect);
    if (!found) return i;
    parent[i] = found.name;
    if (!found.stats.isDirectory()) throw conflict(`cannot restore into ${displayGuestPath(parent)}: ${displayGuestPath(parent.slice(0, i + 1))} exists and is not a folder`);
    handles.push(await dir.openChild(found.name));
  }
  return parent.length;
}

/** The entry `name` names in `dir`: that exact name, or failing that one with the same dialect key. */
async function findChild(dir: DirHandle, name: Buffer, dialect: MountedFolderDialect): Promise<{ name: Buffer; stats: Stats } | undefined> {
  const exact = await dir.lstatChild(name);
  if (exact) return { name, stats: exact };
  if (!dialect.nameKey) return undefined;
  const key = dialect.nameKey(name);
  for (const other of await dir.names()) {
    if (dialect.nameKey(other) !== key) continue;
    const stats = await dir.lstatChild(other);
    if (stats) return { name: other, stats };
  }
  return undefined;
}

async function checkSpace(mountPath: string, request: GuestWriteRequest, missingParents: number) {
  const fs = await statfs(mountPath);
  const need = spaceNeeded(request.item, fs.bsize);
  const blocks = need.blocks + missingParents + SPARE_BLOCKS;
  const inodes = need.inodes + missingParents;
  if (blocks > fs.bavail || inodes > fs.ffree) {
    throw new OpenemError(
      'NO_SPACE',
      `guest filesystem is too full: need ~${blocks} blocks and ${inodes} inodes of ${fs.bsize} bytes, have ${fs.bavail} blocks and ${fs.ffree} inodes free`,
    );
  }
  return need;
}

/** Puts the completely written `temp` in place of `name` (the existing entry being `existingName`, when there is one). */
async function commit(dir: DirHandle, temp: Buffer, name: Buffer, existingName: Buffer | undefined, swap: boolean): Promise<void> {
  if (!swap || !existingName) {
    await rename(dir.child(temp), dir.child(name));
    return;
  }
  const old = temporaryName('replaced');
  await rename(dir.child(existingName), dir.child(old));
  try {
    await rename(dir.child(temp), dir.child(name));
  } catch (e) {
    await cleanUpAfter(e, async () => {
      await rename(dir.child(old), dir.child(existingName));
      await removeTree(dir, temp);
    });
    throw e;
  }
  await removeTree(dir, old);
}

/** Removes the parents this write created (they hold nothing once the temporary item is gone), deepest first. */
async function removeCreatedParents(handles: DirHandle[], names: Buffer[]): Promise<void> {
  for (const name of [...names].reverse()) {
    await handles.pop()!.close();
    await rmdir(handles[handles.length - 1].child(name));
  }
}

/** Runs the clean-up of a failed write; if that fails too, the error says both (the first one stays the cause). */
async function cleanUpAfter(error: unknown, cleanUp: () => Promise<void>): Promise<void> {
  try {
    await cleanUp();
  } catch (e) {
    throw new OpenemError('INTERNAL', `${(error as Error)?.message ?? error}; cleaning up in the guest then failed too: ${(e as Error)?.message ?? e}`, { cause: error });
  }
}

function temporaryName(kind: 'restore' | 'replaced'): Buffer {
  return temporaryEntryName(kind, randomBytes(8).toString('hex'));
}

/** File-system errors as catalogue errors: a full guest is NO_SPACE, a name the guest cannot hold BAD_REQUEST. */
function asWriteError(e: unknown, what: string): unknown {
  if (isOpenemError(e) || (e as Error)?.name === 'AbortError') return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new OpenemError('NO_SPACE', `guest filesystem is too full to restore ${what}`, { cause: e });
  if (code === 'ENAMETOOLONG') return badRequest(`a name or symlink target in ${what} is too long for the guest filesystem`);
  return new OpenemError('INTERNAL', `writing ${what} into the guest failed: ${(e as Error)?.message ?? e}`, { cause: e });
}
