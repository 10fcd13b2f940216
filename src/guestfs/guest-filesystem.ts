import type { Readable } from 'node:stream';

export type GuestEntryType = 'file' | 'dir' | 'symlink' | 'other';

/**
 * Identifies an entry inside its filesystem (ext4: the inode number; NTFS: the file record). Opaque outside the
 * backend that made it: compared (a folder met twice), never interpreted.
 */
export type GuestEntryId = number | string;

/** One file, folder, link or other entry, in a shape every filesystem fits (ext4's inodes, NTFS's file records). */
export interface GuestEntry {
  /** Absolute path inside its filesystem, `/` separated, starting with `/`. */
  path: string;
  name: string;
  type: GuestEntryType;
  size: number;
  mtime: Date;
  /** Last access, metadata change and creation, where the filesystem keeps them. */
  atime?: Date;
  ctime?: Date;
  birthtime?: Date;
  /** POSIX filesystems (ext4): mode bits including the type bits, and the numeric owner and group. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** The owner as the guest names it, where it is not a number (NTFS: from the security descriptor). */
  owner?: string;
  id: GuestEntryId;
  /** The name's bytes when they are not valid UTF-8 (`name` and `path` then hold U+FFFD); see `entryNameBytes`. */
  rawName?: Buffer;
}

/** A byte range of a file, `end` exclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

const DEFAULT_MODES: Record<GuestEntryType, number> = { dir: 0o40755, file: 0o100644, symlink: 0o120777, other: 0 };

/**
 * An entry's POSIX mode with its type bits, for views that need one (FUSE, tar): its own where the filesystem keeps
 * one (ext4), otherwise what a POSIX tool would show for its type (0755 folders, 0644 files).
 */
export function posixModeOf(entry: GuestEntry): number {
  return entry.mode ?? DEFAULT_MODES[entry.type];
}

/** The exact bytes of an entry's name, as stored in the guest. */
export function entryNameBytes(entry: GuestEntry): Buffer {
  return entry.rawName ?? Buffer.from(entry.name, 'utf8');
}

/** Creation, last write and last access time in NTFS's own unit: 100 ns since 1601-01-01 UTC. */
export interface NtfsTimes {
  creation: bigint;
  write: bigint;
  access: bigint;
}

/** What an NTFS volume keeps beside an entry's data (GuestFilesystem.windowsDetails). */
export interface WindowsEntryDetails {
  /** FILE_ATTRIBUTE_* flags. */
  fileAttributes: number;
  /** The times as NTFS keeps them, in 100 ns since 1601 (a Date keeps only milliseconds). */
  times: NtfsTimes;
  /** Self-relative security descriptor; absent when the volume holds none for the entry. */
  securityDescriptor?: Buffer;
  /** Named data streams, each with an entry its filesystem's dataRanges and createEntryReadStream take. */
  streams: { name: string; size: number; entry: GuestEntry }[];
  /** A junction or Windows symlink: its reparse point as the volume keeps it. */
  reparsePoint?: NtfsReparsePoint;
}

/** A junction's or Windows symlink's reparse point: the whole $REPARSE_POINT value, and whether its file record is a folder. */
export interface NtfsReparsePoint {
  /** Tag (4 bytes), data length (2), reserved (2), then the data: what ntfs-3g's `system.ntfs_reparse_data` holds. */
  value: Buffer;
  folder: boolean;
}

/** A read-only filesystem inside a block source (one volume: a partition or a whole disk). */
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

  // Byte-exact access by entry (its id), for restores: a name that is not valid UTF-8 cannot be reached
  // reliably by a string path, and a restore must copy names, targets and holes exactly.
  /** Every entry of a folder, names in `rawName` where they are not UTF-8. */
  listEntry(dir: GuestEntry): Promise<GuestEntry[]>;
  /** A symlink's target, as stored. */
  readlinkBytes(link: GuestEntry): Promise<Buffer>;
  /** The ranges of a regular file that hold data, in order; the rest of the file is holes (reads as zeros). */
  dataRanges(file: GuestEntry): Promise<ByteRange[]>;
  /** A regular file's bytes [start, end), streamed with a bounded read-ahead. */
  createEntryReadStream(file: GuestEntry, range: ByteRange): Promise<Readable>;
  /** NTFS only: flags, security descriptor and named streams, for restores that keep them. */
  windowsDetails?(entry: GuestEntry): Promise<WindowsEntryDetails>;
}
