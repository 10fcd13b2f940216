import type { Readable } from 'node:stream';

export type GuestEntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface GuestEntry {
  /** Absolute guest path, `/` separated, starting with `/`. */
  path: string;
  name: string;
  type: GuestEntryType;
  size: number;
  mtime: Date;
  /** Unix mode bits including the type bits. */
  mode: number;
  uid: number;
  gid: number;
  inode: number;
  /** The name's bytes when they are not valid UTF-8 (`name` and `path` then hold U+FFFD); see `entryNameBytes`. */
  rawName?: Buffer;
}

/** A byte range of a file, `end` exclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The exact bytes of an entry's name, as stored in the guest. */
export function entryNameBytes(entry: GuestEntry): Buffer {
  return entry.rawName ?? Buffer.from(entry.name, 'utf8');
}

/** A read-only filesystem inside a block source (ext4 now). */
export interface GuestFilesystem {
  /** `undefined` when the path does not exist. */
  stat(path: string): Promise<GuestEntry | undefined>;
  /** Entries of a directory, without `.` and `..`. Throws NOT_FOUND / BAD_REQUEST (not a directory). */
  list(path: string): Promise<GuestEntry[]>;
  readlink(path: string): Promise<string>;
  /** The file's bytes, streamed; holes read as zeros. `end` is exclusive. */
  createReadStream(path: string, range?: { start?: number; end?: number }): Promise<Readable>;
  /** Reads part of a file (for FUSE and small reads). */
  read(path: string, offset: number, length: number): Promise<Buffer>;
  /** Every entry below `path` (depth first), the root itself excluded. */
  walk(path?: string): AsyncIterable<GuestEntry>;

  // Byte-exact access by entry (its inode), for restores: a name that is not valid UTF-8 cannot be reached
  // reliably by a string path, and a restore must copy names, targets and holes exactly.
  /** Every entry of a folder, names in `rawName` where they are not UTF-8. */
  listEntry(dir: GuestEntry): Promise<GuestEntry[]>;
  /** A symlink's target, as stored. */
  readlinkBytes(link: GuestEntry): Promise<Buffer>;
  /** The ranges of a regular file that hold data, in order; the rest of the file is holes (reads as zeros). */
  dataRanges(file: GuestEntry): Promise<ByteRange[]>;
  /** A regular file's bytes [start, end), streamed with a bounded read-ahead. */
  createEntryReadStream(file: GuestEntry, range: ByteRange): Promise<Readable>;
}
