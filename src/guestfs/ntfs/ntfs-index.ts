import { corrupt } from '../../errors.js';
import { applyFixups } from './ntfs-fixups.js';
import { referenceRecord } from './ntfs-record.js';

/** Name spaces of a $FILE_NAME: a DOS-only name is the 8.3 alias of a long name listed beside it. */
export const NAMESPACE = { POSIX: 0, WIN32: 1, DOS: 2, WIN32_AND_DOS: 3 } as const;

const ENTRY_LAST = 0x02;

/** One name of a folder's $I30 index: the file record it names and the copy of its $FILE_NAME kept in the index. */
export interface NtfsIndexEntry {
  record: number;
  sequence: number;
  name: string;
  namespace: number;
  /** The Windows file attributes in the index's copy of $FILE_NAME (FILE_ATTRIBUTE_*; 0x10000000 = directory). */
  fileAttributes: number;
}

/** Parses the entries of one index node (a header at `header` in `b`), leaving out the end marker and DOS aliases. */
export function parseIndexNode(b: Buffer, header: number, what: string, out: NtfsIndexEntry[]): void {
  if (header + 16 > b.length) throw corrupt(`${what} has a truncated index header`);
  const first = header + b.readUInt32LE(header);
  const end = header + b.readUInt32LE(header + 4);
  if (end > b.length || first < header + 16 || first > end) throw corrupt(`${what} has an index header outside its node`);
  let at = first;
  while (at + 16 <= end) {
    const length = b.readUInt16LE(at + 8);
    const keyLength = b.readUInt16LE(at + 10);
    const flags = b.readUInt16LE(at + 12);
    if (flags & ENTRY_LAST) return;
    if (length < 16 || at + length > end || 16 + keyLength > length) throw corrupt(`${what} has an index entry of invalid length ${length}`);
    const key = b.subarray(at + 16, at + 16 + keyLength);
    if (key.length < 0x42 || key.length < 0x42 + key[0x40] * 2) throw corrupt(`${what} has an index entry with a truncated file name`);
    const namespace = key[0x41];
    if (namespace !== NAMESPACE.DOS) {
      out.push({
        record: referenceRecord(b, at),
        sequence: b.readUInt16LE(at + 6),
        name: key.toString('utf16le', 0x42, 0x42 + key[0x40] * 2),
        namespace,
        fileAttributes: key.readUInt32LE(0x38),
      });
    }
    at += length;
  }
  throw corrupt(`${what} has no end entry`);
}

/** The entries of $INDEX_ROOT's value (the B+ tree's root node, kept in the file record). */
export function parseIndexRoot(root: Buffer, what: string, out: NtfsIndexEntry[]): { blockSize: number } {
  if (root.length < 0x20) throw corrupt(`${what} has a truncated index root`);
  parseIndexNode(root, 0x10, `${what} index root`, out);
  return { blockSize: root.readUInt32LE(0x08) };
}

/** The entries of one INDX block of $INDEX_ALLOCATION (fixups applied to a copy). */
export function parseIndexBlock(raw: Buffer, what: string, out: NtfsIndexEntry[]): void {
  const b = Buffer.from(raw);
  applyFixups(b, 'INDX', what);
  parseIndexNode(b, 0x18, what, out);
}
