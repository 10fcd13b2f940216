import type { GuestEntry } from '../guest-filesystem.js';
import type { NtfsIndexEntry } from './ntfs-index.js';
import type { NtfsMft } from './ntfs-mft.js';
import { newRecordSummary, summariseRecord } from './ntfs-record-summary.js';
import type { NtfsSecure } from './ntfs-secure.js';
import { OwnerNames } from './ntfs-security.js';

/**
 * A folder's entries as a listing shows them. A plain file or folder is shown from its record's attribute headers
 * (ntfs-record-summary.ts: times, flags and size from $STANDARD_INFORMATION and $DATA; the owner from its own
 * descriptor, or from $Secure by its security id, as EM's FileEntry shows one), without building a node; anything
 * else (links, attribute lists, possible Interix symlinks) by `entryOfNode` from its node. The records are read in
 * $MFT order in a few large spans (NtfsMft.forEachRecord), each security id's owner looked up once.
 */
export async function listFolderEntries(
  mft: NtfsMft,
  secure: NtfsSecure,
  entries: NtfsIndexEntry[],
  prefix: string,
  entryOfNode: (entry: NtfsIndexEntry) => Promise<GuestEntry>,
): Promise<GuestEntry[]> {
  const out: GuestEntry[] = new Array(entries.length);
  const byNode: number[] = [];
  const shared = new Map<number, number[]>();
  const owners = new OwnerNames();
  const { volumeBytes } = mft;
  const recordSize = mft.boot.mftRecordSize;
  const s = newRecordSummary();
  await mft.forEachRecord(
    entries.map((e) => e.record),
    (i, b, at) => {
      if (!summariseRecord(b, at, recordSize, volumeBytes, owners, s)) {
        byNode.push(i);
        return;
      }
      const { name, record } = entries[i];
      const entry: GuestEntry = {
        path: prefix + name,
        name,
        type: s.isDirectory ? 'dir' : 'file',
        size: s.size,
        mtime: new Date(s.mtimeMs),
        atime: new Date(s.atimeMs),
        ctime: new Date(s.ctimeMs),
        birthtime: new Date(s.birthtimeMs),
        id: record,
      };
      if (s.owner !== undefined) entry.owner = s.owner;
      else if (s.securityId !== 0) {
        const waiting = shared.get(s.securityId);
        if (waiting) waiting.push(i);
        else shared.set(s.securityId, [i]);
      }
      out[i] = entry;
    },
  );
  for (const [id, waiting] of shared) {
    const owner = await secure.ownerOf(id);
    if (owner) for (const i of waiting) out[i].owner = owner;
  }
  for (const i of byNode) out[i] = await entryOfNode(entries[i]);
  return out;
}
