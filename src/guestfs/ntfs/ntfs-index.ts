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

/** One entry of an index node: `b` holds it at `at`, its key at `at + 16` (`keyLength` bytes), `length` in all. */
export type IndexEntryVisitor = (b: Buffer, at: number, length: number, keyLength: number) => void;

/**
 * Visits the entries of one index node (a header at `header` in `b`), the end marker left out. Every entry must lie
 * inside the node and be at least its 16-byte header long, so the walk moves forward and ends inside the node.
 */
export function visitIndexNode(b: Buffer, header: number, what: string, visit: IndexEntryVisitor): void {
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
    visit(b, at, length, keyLength);
    at += length;
  }
  throw corrupt(`${what} has no end entry`);
}

/** Parses one $I30 entry (a copy of the named file's $FILE_NAME as its key) into `out`, leaving out DOS aliases. */
export function parseI30Entry(node: Buffer, at: number, keyLength: number, what: string, out: NtfsIndexEntry[]): void {
  // The key (a $FILE_NAME) is read where it lies in the node, not sliced out: a folder's entries cost no Buffer each.
  const key = at + 16;
  const nameLength = keyLength >= 0x42 ? node[key + 0x40] * 2 : 0;
  if (keyLength < 0x42 || keyLength < 0x42 + nameLength || key + keyLength > node.length) throw corrupt(`${what} has an index entry with a truncated file name`);
  const namespace = node[key + 0x41];
  if (namespace === NAMESPACE.DOS) return;
  out.push({
    record: referenceRecord(node, at),
    sequence: node.readUInt16LE(at + 6),
    name: node.toString('utf16le', key + 0x42, key + 0x42 + nameLength),
    namespace,
    fileAttributes: node.readUInt32LE(key + 0x38),
  });
}

/** Visits the entries of $INDEX_ROOT's value (the B+ tree's root node, kept in the file record). */
export function visitIndexRoot(root: Buffer, what: string, visit: IndexEntryVisitor): void {
  if (root.length < 0x20) throw corrupt(`${what} has a truncated index root`);
  visitIndexNode(root, 0x10, `${what} index root`, visit);
}

/** Visits the entries of one INDX block of $INDEX_ALLOCATION, its fixups applied in place: `b` must be the caller's own. */
export function visitIndexBlock(b: Buffer, what: string, visit: IndexEntryVisitor): void {
  applyFixups(b, 'INDX', what);
  visitIndexNode(b, 0x18, what, visit);
}
