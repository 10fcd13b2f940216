import type { GuestEntry } from '../guest-filesystem.js';
import { isUsableGuestName } from '../guest-path.js';
import { LruCache } from '../lru-cache.js';
import { parseI30Entry, type NtfsIndexEntry } from './ntfs-index.js';
import { visitIndex } from './ntfs-index-walk.js';
import type { NtfsMft } from './ntfs-mft.js';
import type { NtfsNode } from './ntfs-node.js';
import { ATTR } from './ntfs-record.js';
import type { NameKey } from './ntfs-upcase.js';

/** Records below this are the volume's metafiles ($MFT, $Bitmap, $Extend, …): Windows never lists them. */
const FIRST_USER_RECORD = 16;

/** A folder's names: all of them in index order, and (once a name is looked up) by exact name and by the volume's upper-case key. */
export interface NtfsFolder {
  entries: NtfsIndexEntry[];
  names?: { exact: Map<string, NtfsIndexEntry>; folded: Map<string, NtfsIndexEntry> };
  /**
   * Its entries as a listing shows them, once listed, with paths under the spelling of the folder's path they were
   * first listed by (`prefix`; a folder may be reached by more than one).
   */
  listed?: { prefix: string; entries: Promise<GuestEntry[]> };
}

/**
 * A volume's folders as their $I30 indexes name their entries, read once and kept (bounded by the indexes' size),
 * and the lookup of a name in one as Windows matches it.
 */
export class NtfsFolders {
  private readonly folders = new LruCache<number, Promise<NtfsFolder>>(200_000);
  /** Index entries left out so far because their name cannot be a path component (isUsableGuestName). */
  unusableNames = 0;

  constructor(
    private readonly mft: NtfsMft,
    private readonly key: NameKey,
  ) {}

  /** The folder of a directory node, its metafiles and unusable names left out. */
  of(node: NtfsNode): Promise<NtfsFolder> {
    const n = node.file.number;
    const load = async (): Promise<NtfsFolder> => {
      const what = `NTFS folder record ${n}`;
      const entries: NtfsIndexEntry[] = [];
      await visitIndex(this.mft, node.file, '$I30', what, (b, at, _length, keyLength) => parseI30Entry(b, at, keyLength, what, entries));
      // A name no path can name (empty, `.`, `..`, with `/` or NUL) is left out, not CORRUPT: Windows never writes
      // one, so it is damage or a hostile guest, and joined to this folder's path it would alias another entry; the
      // rest of the folder stays readable (and indexable), as a folder whose other names are fine should.
      const visible = entries.filter((e) => {
        if (e.record < FIRST_USER_RECORD) return false;
        if (isUsableGuestName(e.name)) return true;
        this.unusableNames++;
        return false;
      });
      return { entries: visible };
    };
    // Weighted by the index's size (about one entry per 64 bytes), so one huge folder cannot pin unbounded memory.
    const alloc = node.file.attributes.find((a) => a.type === ATTR.INDEX_ALLOCATION && a.lowestVcn === 0);
    return this.folders.getOrCreate(n, load, Math.max(1, Math.ceil((alloc?.allocatedSize ?? 0) / 64)));
  }

  /**
   * The entry `name` names in folder `d`: the exact name first, else the one with its upper-case key. The maps are
   * built on the first lookup, not when the folder is read: a listing needs neither (nor 10,000 upper-case keys).
   */
  lookup(d: NtfsFolder, name: string): NtfsIndexEntry | undefined {
    if (!d.names) {
      const exact = new Map<string, NtfsIndexEntry>();
      const folded = new Map<string, NtfsIndexEntry>();
      for (const e of d.entries) {
        exact.set(e.name, e);
        const k = this.key(e.name);
        if (!folded.has(k)) folded.set(k, e);
      }
      d.names = { exact, folded };
    }
    return d.names.exact.get(name) ?? d.names.folded.get(this.key(name));
  }
}
