import { open } from 'node:fs/promises';
import { getAttribute, setAttribute } from 'fs-xattr';
import { isOpenemError, notFound, OpenemError } from '../../errors.js';
import { displayGuestPath, type GuestItem, type GuestWriteOptions } from '../guest-writer.js';
import { afterFailure } from '../mounted/after-failure.js';
import { DirHandle } from '../mounted/dir-handle.js';
import { descriptorPath } from '../mounted/write-item.js';
import { NAME_ONLY_FLAGS, NTFS_ACL_XATTR, putBackDescriptors, type DescriptorJournal, type ReplacedDescriptor } from './ntfs3g-descriptor-journal.js';
import { mountWithNtfs3g, type NtfsVolumeTarget } from './ntfs3g-mount.js';
import { refuseNamesNtfs3gWouldMisread, windowsNameKey } from './ntfs3g-writer.js';
import { checkNtfsClean } from './ntfsfix-check.js';

export interface PermissionsRequest {
  /** The folder holding the item, as name components from the guest root (matched as Windows matches names). */
  parent: Buffer[];
  /** The restore point's item: its security descriptor, and for a folder those of everything below it. */
  item: GuestItem;
}

export interface PermissionsResult {
  /** Where the item is in the live volume, under the live spelling. */
  target: Buffer[];
  /** Items whose descriptor was set (it differed). */
  changed: number;
  /** Items found that already had the restore point's descriptor. */
  unchanged: number;
  /** Items of the restore point not in the live volume (below a folder), symlinks, and items without a descriptor. */
  skipped: number;
}

/** Descriptors found by the survey pass go to the journal this many at a time. */
const JOURNAL_BATCH = 512;

export interface PermissionsOptions extends GuestWriteOptions {
  journal?: DescriptorJournal;
}

/**
 * EM's `PermissionsOnly` restore (FileRestoreSpec ToOriginalLocation): puts the restore point's security descriptor
 * back on an item that exists in the live NTFS volume and, for a folder, on every item below it that both have —
 * nothing else changes: no data, stream, time or flag is written, nothing is created or removed. The volume is
 * mounted with ntfs-3g on a partition view (ntfs3g-mount.ts), names are matched case-insensitively as Windows does
 * (windowsNameKey), each descriptor is set with setxattr(2) as `system.ntfs_acl` on the entry's descriptor path, so
 * no guest name is a path and no descriptor byte is on a command line. A missing target is NOT_FOUND before
 * anything is set; a failure part-way puts back the descriptors already replaced. Before the first is set, every
 * descriptor that will be replaced is found (a first pass that sets nothing) and given to `options.journal`, which
 * keeps it until the run has ended one way or the other, for a server killed part-way. `ntfsfix --no-action`
 * proves the volume clean afterwards.
 */
export async function restoreNtfsPermissions(target: NtfsVolumeTarget, request: PermissionsRequest, options: PermissionsOptions = {}): Promise<PermissionsResult> {
  refuseNamesNtfs3gWouldMisread({ ...request, onExisting: 'replace' });
  const mount = await mountWithNtfs3g(target);
  let result: PermissionsResult | undefined;
  let failure: unknown;
  let clearJournal = true;
  try {
    result = await setPermissionsIn(mount.path, request, options, () => (clearJournal = false));
  } catch (e) {
    failure = e;
  }
  await afterFailure(failure, () => mount.unmount());
  await afterFailure(failure, () => checkNtfsClean(target));
  // Kept when a failure could not put everything back: the next start tries again.
  if (clearJournal) await afterFailure(failure, async () => options.journal?.clear());
  if (failure !== undefined) throw failure;
  options.log?.('ntfsfix --no-action reports the NTFS volume clean');
  return result!;
}

async function setPermissionsIn(mountPath: string, request: PermissionsRequest, options: PermissionsOptions, keepJournal: () => void): Promise<PermissionsResult> {
  const root = await DirHandle.open(mountPath);
  const handles: DirHandle[] = [root];
  const undo: ReplacedDescriptor[] = [];
  const wanted = [...request.parent, request.item.name];
  try {
    const live: Buffer[] = [];
    for (const part of request.parent) {
      const dir = handles[handles.length - 1];
      const found = (await namesByKey(dir)).find(part);
      if (!found) throw missing(wanted, live.concat(part));
      live.push(found);
      try {
        handles.push(await dir.openChild(found));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOTDIR' || code === 'ELOOP') throw missing(wanted, live);
        throw e;
      }
    }
    const dir = handles[handles.length - 1];
    const name = (await namesByKey(dir)).find(request.item.name);
    if (!name) throw missing(wanted, [...live, request.item.name]);
    const total = countItems(request.item);
    const journal = options.journal;
    if (journal) {
      await journal.begin();
      const survey: State = { done: 0, total, changed: 0, unchanged: 0, skipped: 0, undo: [], options: { signal: options.signal }, survey: journal };
      await apply(dir, name, request.item, [...live, name], survey);
      if (survey.undo.length) await journal.add(survey.undo.splice(0));
      await journal.complete();
    }
    // With a journal, the descriptors to put back after a failure are read back from it: no second list in memory.
    const state: State = { done: 0, total, changed: 0, unchanged: 0, skipped: 0, undo, options, journaled: journal !== undefined };
    options.onProgress?.(0, total);
    try {
      await apply(dir, name, request.item, [...live, name], state);
    } catch (e) {
      try {
        if (journal) for await (const batch of journal.batches()) await putBackDescriptors(e, root, batch);
        else await putBackDescriptors(e, root, undo);
      } catch (putBackFailure) {
        keepJournal();
        throw putBackFailure;
      }
      throw asPermissionsError(e, displayGuestPath(wanted));
    }
    return { target: [...live, name], changed: state.changed, unchanged: state.unchanged, skipped: state.skipped };
  } finally {
    for (const h of handles.reverse()) await h.close();
  }
}

interface State {
  done: number;
  total: number;
  changed: number;
  unchanged: number;
  skipped: number;
  /** What was replaced so far (without a journal), or (surveying) found but not yet given to the journal. */
  undo: ReplacedDescriptor[];
  options: GuestWriteOptions;
  /** Only find what would be replaced, set nothing, and give it to this journal in batches. */
  survey?: DescriptorJournal;
  /** The replaced descriptors are in the journal: `undo` stays empty. */
  journaled?: boolean;
}

/** Sets the descriptor of live entry `name` in `dir` (the restore point's `item`), then, for two folders, of the children both hold. */
async function apply(dir: DirHandle, name: Buffer, item: GuestItem, path: Buffer[], state: State): Promise<void> {
  state.options.signal?.throwIfAborted();
  const st = await dir.lstatChild(name);
  const progress = (items: number) => state.options.onProgress?.((state.done += items), state.total);
  if (!st || st.isSymbolicLink() || item.type === 'symlink') {
    state.skipped += countItems(item);
    progress(countItems(item));
    return;
  }
  const descriptor = item.attrs.windows?.securityDescriptor;
  if (!st.isDirectory() || item.type !== 'dir') {
    const fh = await open(dir.child(name), NAME_ONLY_FLAGS);
    try {
      await setDescriptor(descriptorPath(fh.fd), descriptor, path, state);
    } finally {
      await fh.close();
    }
    if (item.type === 'dir') state.skipped += countItems(item) - 1;
    progress(countItems(item));
    return;
  }
  const sub = await dir.openChild(name);
  try {
    await setDescriptor(descriptorPath(sub.fd), descriptor, path, state);
    progress(1);
    const names = await namesByKey(sub);
    for (const child of item.children) {
      const found = names.find(child.name);
      if (found) await apply(sub, found, child, [...path, found], state);
      else {
        state.skipped += countItems(child);
        progress(countItems(child));
      }
    }
  } finally {
    await sub.close();
  }
}

async function setDescriptor(fdPath: string, descriptor: Buffer | undefined, path: Buffer[], state: State): Promise<void> {
  if (!descriptor) {
    state.skipped += 1;
    return;
  }
  const old = await getAttribute(fdPath, NTFS_ACL_XATTR);
  if (old.equals(descriptor)) {
    state.unchanged += 1;
    return;
  }
  if (state.survey) {
    state.undo.push({ path, old });
    if (state.undo.length >= JOURNAL_BATCH) await state.survey.add(state.undo.splice(0));
    return;
  }
  if (!state.journaled) state.undo.push({ path, old });
  try {
    await setAttribute(fdPath, NTFS_ACL_XATTR, descriptor);
  } catch (e) {
    throw new OpenemError('INTERNAL', `ntfs-3g refused the security descriptor of ${displayGuestPath(path)}: ${(e as Error).message}`, { cause: e });
  }
  state.changed += 1;
}

/** A folder's names by exact spelling and by their Windows key: the exact name wins, else the one Windows would match. */
async function namesByKey(dir: DirHandle): Promise<{ find(name: Buffer): Buffer | undefined }> {
  const names = await dir.names();
  const exact = new Set(names.map((n) => n.toString('latin1')));
  const byKey = new Map<string, Buffer>();
  for (const n of names) if (!byKey.has(windowsNameKey(n))) byKey.set(windowsNameKey(n), n);
  return { find: (name) => (exact.has(name.toString('latin1')) ? name : byKey.get(windowsNameKey(name))) };
}

function countItems(item: GuestItem): number {
  return item.type === 'dir' ? 1 + item.children.reduce((n, c) => n + countItems(c), 0) : 1;
}

function missing(wanted: Buffer[], upTo: Buffer[]): OpenemError {
  const what = displayGuestPath(wanted);
  const where = upTo.length < wanted.length ? ` (${displayGuestPath(upTo)} is not a folder there)` : '';
  return notFound(`${what} does not exist in the live VM${where}; PermissionsOnly restores the permissions of an existing file or folder only`);
}

function asPermissionsError(e: unknown, what: string): unknown {
  if (isOpenemError(e) || (e as Error)?.name === 'AbortError') return e;
  return new OpenemError('INTERNAL', `restoring the permissions of ${what} failed: ${(e as Error)?.message ?? e}`, { cause: e });
}
