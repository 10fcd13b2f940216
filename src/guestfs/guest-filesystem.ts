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
}
