import { badRequest, corrupt } from '../../errors.js';
import { entryNameBytes, type GuestEntry, type GuestEntryId, type GuestFilesystem } from '../../guestfs/guest-filesystem.js';
import { guestPathComponents } from '../../guestfs/guest-path.js';
import type { GuestAttributes, GuestItem, NamedStreamItem } from '../../guestfs/guest-writer.js';

/** The most items one restore plans: a bound on memory however many entries (or hard-linked folders) a tree holds. */
export const MAX_PLANNED_ITEMS = 1_000_000;

export interface PlannedItem {
  item: GuestItem;
  /** Items in the tree (the entry and everything below it that can be restored). */
  count: number;
  /** File data bytes to copy (holes excluded). */
  dataBytes: number;
}

/**
 * The restore point's entry as an item for a GuestWriter: for a folder, everything below it; names, symlink
 * targets and data ranges exactly as stored (by entry id, so names that are not UTF-8 survive), with the mode,
 * owner and mtime each had at backup time. File bytes are not read here: each file's `read` streams them from
 * the restore point when the writer gets to it. Devices, FIFOs and sockets are skipped, as before. From an NTFS
 * volume each item also carries its Windows flags, creation and access times, security descriptor and named streams.
 */
export async function planGuestItem(fs: GuestFilesystem, entry: GuestEntry, signal?: AbortSignal, maxItems = MAX_PLANNED_ITEMS): Promise<PlannedItem> {
  if (entry.type === 'other') throw badRequest(`${entry.path} is not a file, folder or symlink; it cannot be restored`);
  const planned: Planning = { count: 0, dataBytes: 0, maxItems, root: entry.path, ancestors: new Set(), files: new Map() };
  const item = await itemOf(fs, entry, planned, signal);
  return { item, count: planned.count, dataBytes: planned.dataBytes };
}

interface Planning {
  count: number;
  dataBytes: number;
  maxItems: number;
  root: string;
  /** Ids of the folders from the planned entry down to the one being listed. */
  ancestors: Set<GuestEntryId>;
  /** The first file planned for each entry id: a file met again under another name is a hard link of it. */
  files: Map<GuestEntryId, Extract<GuestItem, { type: 'file' }>>;
}

async function itemOf(fs: GuestFilesystem, e: GuestEntry, planned: Planning, signal?: AbortSignal): Promise<GuestItem> {
  signal?.throwIfAborted();
  planned.count += 1;
  if (planned.count > planned.maxItems) throw badRequest(`${planned.root} holds more than ${planned.maxItems} items; restore a folder below it`);
  const name = entryNameBytes(e);
  const attrs: GuestAttributes = { mode: e.mode === undefined ? undefined : e.mode & 0o7777, uid: e.uid, gid: e.gid, mtime: e.mtime };
  if (fs.windowsDetails) {
    const w = await fs.windowsDetails(e);
    const streams: NamedStreamItem[] = [];
    for (const s of w.streams) {
      const dataRanges = await fs.dataRanges(s.entry);
      streams.push({ name: s.name, size: s.size, dataRanges, read: (range) => fs.createEntryReadStream(s.entry, range) });
    }
    attrs.windows = { fileAttributes: w.fileAttributes, times: w.times, securityDescriptor: w.securityDescriptor, streams };
    if (w.reparsePoint && e.type === 'symlink') attrs.windows.reparsePoint = w.reparsePoint;
  }
  if (e.type === 'symlink') return { type: 'symlink', name, attrs, target: await fs.readlinkBytes(e) };
  if (e.type === 'dir') planned.dataBytes += streamBytes(attrs);
  if (e.type === 'file') {
    const dataRanges = await fs.dataRanges(e);
    const item: Extract<GuestItem, { type: 'file' }> = { type: 'file', name, attrs, size: e.size, dataRanges, read: (range) => fs.createEntryReadStream(e, range) };
    const first = planned.files.get(e.id);
    if (!first) {
      planned.files.set(e.id, item);
      planned.dataBytes += dataRanges.reduce((n, r) => n + r.end - r.start, 0) + streamBytes(attrs);
    } else {
      // The same entry (inode, MFT record) under a second name in the tree: a hard link, written as one (guest-writer.ts).
      first.hardLink = item.hardLink = String(e.id);
    }
    return item;
  }
  // A damaged or hostile filesystem can hold a folder that contains one of its own ancestors: no end below it.
  if (planned.ancestors.has(e.id)) throw corrupt(`${e.path} (entry ${e.id}) contains itself: the guest filesystem is damaged`);
  planned.ancestors.add(e.id);
  const children: GuestItem[] = [];
  for (const child of await fs.listEntry(e)) {
    if (child.type !== 'other') children.push(await itemOf(fs, child, planned, signal));
  }
  planned.ancestors.delete(e.id);
  return { type: 'dir', name, attrs, children };
}

/** Bytes of data in an NTFS item's named streams. */
function streamBytes(attrs: GuestAttributes): number {
  let n = 0;
  for (const s of attrs.windows?.streams ?? []) for (const r of s.dataRanges) n += r.end - r.start;
  return n;
}

/** The name components of the folder holding `path`, as bytes (from the restore point, where the entry was). */
export async function parentComponentsOf(fs: GuestFilesystem, path: string): Promise<Buffer[]> {
  const parts = guestPathComponents(path).slice(0, -1);
  const out: Buffer[] = [];
  for (let i = 0; i < parts.length; i++) {
    const parent = await fs.stat('/' + parts.slice(0, i + 1).join('/'));
    out.push(parent ? entryNameBytes(parent) : Buffer.from(parts[i], 'utf8'));
  }
  return out;
}
