import type { Readable } from 'node:stream';
import type { ByteRange, NtfsReparsePoint, NtfsTimes } from './guest-filesystem.js';

/**
 * Modification time of a restored item and, from a POSIX filesystem, its permission bits (0o7777; ignored for
 * symlinks) and numeric owner; without them the writer leaves what the filesystem driver gives a new item.
 */
export interface GuestAttributes {
  mode?: number;
  uid?: number;
  gid?: number;
  mtime: Date;
  /** From an NTFS volume: what Windows keeps beside the data (a writer for another filesystem ignores it). */
  windows?: WindowsAttributes;
}

/** A named (alternate) data stream of an NTFS file, written beside the file's main data. */
export interface NamedStreamItem {
  /** The stream's name (UTF-16 on disk; never empty, never holding `:`, `/` or NUL). */
  name: string;
  size: number;
  dataRanges: ByteRange[];
  read(range: ByteRange): Promise<Readable>;
}

/** An NTFS item's Windows side: its FILE_ATTRIBUTE_* flags, the times POSIX lacks, its security descriptor and streams. */
export interface WindowsAttributes {
  fileAttributes: number;
  /** Exact to 100 ns, as the volume had them (GuestAttributes.mtime is only the millisecond). */
  times: NtfsTimes;
  /** Self-relative security descriptor, as `system.ntfs_acl` holds it; absent when the volume has none for the item. */
  securityDescriptor?: Buffer;
  streams: NamedStreamItem[];
  /**
   * A symlink item that was a junction or a Windows symlink: written back as that reparse point (an NTFS writer),
   * its target never followed nor handed to a program; other writers make the item an ordinary symlink.
   */
  reparsePoint?: NtfsReparsePoint;
}

/**
 * One thing to put into a guest filesystem. Names and symlink targets are the guest's bytes, never text: they
 * may be any bytes but `/` and NUL, and they only ever reach the filesystem as Buffer paths of fs calls.
 */
export type GuestItem =
  | { type: 'dir'; name: Buffer; attrs: GuestAttributes; children: GuestItem[] }
  | { type: 'symlink'; name: Buffer; attrs: GuestAttributes; target: Buffer }
  | {
      type: 'file';
      name: Buffer;
      attrs: GuestAttributes;
      size: number;
      /** Where the file holds data; everything else is written as holes. */
      dataRanges: ByteRange[];
      /** The file's bytes in one data range. */
      read(range: ByteRange): Promise<Readable>;
      /**
       * Files of one request with the same key are one file under several names (hard links in the restore point):
       * a writer that can, writes the first and links the others to it; each still carries the whole file.
       */
      hardLink?: string;
    };

export interface GuestWriteRequest {
  /** The folder the item goes into, as name components from the guest root (missing ones are created). */
  parent: Buffer[];
  item: GuestItem;
  /** An existing item of that name: replaced, or kept with the restored one beside it as `RESTORED_<name>`. */
  onExisting: 'replace' | 'keep-both';
}

export interface GuestWriteOptions {
  /** Bytes of file data written so far, of the total. */
  onProgress?(bytesDone: number, bytesTotal: number): void;
  log?(text: string): void;
  signal?: AbortSignal;
}

export interface GuestWriteResult {
  /** Where the item went, as name components from the guest root. */
  target: Buffer[];
  /** Items written (the item and everything below it). */
  written: number;
  /** Parent folders that did not exist and were created. */
  createdParents: Buffer[][];
  /** An existing item of the target name was replaced. */
  replaced: boolean;
}

/**
 * Writes restored items into a guest's filesystem (ext4 through fuse2fs now; NTFS would go through ntfs-3g),
 * one item at a time and atomically: the item is built beside the existing one and renamed over it, so a
 * failure leaves the guest as it was. Free space and inodes are checked before anything is written.
 */
export interface GuestWriter {
  write(request: GuestWriteRequest, options?: GuestWriteOptions): Promise<GuestWriteResult>;
}

/** A guest path from name components, for logs and messages (names that are not UTF-8 show U+FFFD). */
export function displayGuestPath(components: Buffer[]): string {
  return '/' + components.map((c) => c.toString('utf8')).join('/');
}

/** The item, then everything below it, depth first. */
export function* itemsOf(item: GuestItem): Generator<GuestItem> {
  yield item;
  if (item.type === 'dir') for (const child of item.children) yield* itemsOf(child);
}
