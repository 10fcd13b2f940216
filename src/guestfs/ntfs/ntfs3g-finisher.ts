import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import { setAttribute as setXattr } from 'fs-xattr';
import { OpenemError } from '../../errors.js';
import type { GuestItem, WindowsAttributes } from '../guest-writer.js';
import type { DirHandle } from '../mounted/dir-handle.js';
import { descriptorPath, writeFileData, type ItemFinisher, type NewEntry } from '../mounted/write-item.js';

const NEW_STREAM = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const COLON = Buffer.from(':');

/** FILE_ATTRIBUTE_* bits. */
const COMPRESSED = 0x0800;
const ARCHIVE = 0x0020;
/** The flags ntfs-3g's `system.ntfs_attrib` sets (its FILE_ATTR_SETTABLE): read-only, hidden, system, archive, temporary, offline, not indexed. */
const SETTABLE = 0x31a7;

/**
 * What an NTFS restore adds to the generic writer, through ntfs-3g's interfaces (its `system.ntfs_*` extended
 * attributes and its Windows stream names):
 * - a folder that was compressed is compressed before its children are written (they are then compressed as
 *   Windows would), and so is a compressed file before its data;
 * - each named stream is written as `file:stream` with ordinary file calls, holes kept;
 * - the security descriptor (`system.ntfs_acl`) when `withSecurity`, the Windows flags (`system.ntfs_attrib`), and
 *   the creation, modification and access times (`system.ntfs_times`) last, since writing changes them.
 * Extended attributes are set with setxattr(2) (Node has none: the `fs-xattr` binding, which follows the link) on
 * the entry's descriptor path (`/proc/<pid>/fd/<n>`), so no guest name is ever a path, and values (a guest's
 * security descriptor) go to the kernel as bytes, never through another program's command line.
 * A junction or Windows symlink is written back as the reparse point it was (createLink below), not as ntfs-3g's
 * own kind of symlink.
 */
export function ntfs3gFinisher(withSecurity: boolean): ItemFinisher {
  return {
    createLink: async (dir, name, item) => (await writeReparsePoint(dir, name, item.attrs.windows, withSecurity)) || writeInterixSymlink(dir, name, item.target, item.attrs.windows, withSecurity),
    async begin(entry, item) {
      const w = item.attrs.windows;
      if (w && w.fileAttributes & COMPRESSED && item.type !== 'symlink') await setAttribute(entry, 'system.ntfs_attrib', u32(COMPRESSED));
    },
    async end(entry, item, ctx) {
      const w = item.attrs.windows;
      if (!w || item.type === 'symlink') return;
      for (const stream of w.streams) {
        const fh = await open(Buffer.concat([entry.path, COLON, Buffer.from(stream.name, 'utf8')]), NEW_STREAM, 0o600);
        try {
          await writeFileData(fh, { ...stream, name: Buffer.concat([item.name, COLON, Buffer.from(stream.name, 'utf8')]) }, ctx);
        } finally {
          await fh.close();
        }
      }
      if (withSecurity && w.securityDescriptor) await setAttribute(entry, 'system.ntfs_acl', w.securityDescriptor);
      const flags = (w.fileAttributes & SETTABLE) | (w.fileAttributes & COMPRESSED);
      if (flags !== defaultFlags(item, w)) await setAttribute(entry, 'system.ntfs_attrib', u32(flags));
      await setAttribute(entry, 'system.ntfs_times', ntfsTimes(w));
    },
  };
}

/**
 * Makes entry `name` of `dir` the restore point's junction or Windows symlink: an empty folder (or file) is created,
 * and through its descriptor given the security descriptor, the flags, the reparse point (`system.ntfs_reparse_data`:
 * the value's bytes as the volume held them; the target is never parsed, followed or handed to a program) and last
 * the times. `false` for a link that was no reparse point (an Interix symlink: symlink(2) makes one again).
 */
async function writeReparsePoint(dir: DirHandle, name: Buffer, w: WindowsAttributes | undefined, withSecurity: boolean): Promise<boolean> {
  const reparse = w?.reparsePoint;
  if (!w || !reparse) return false;
  const path = dir.child(name);
  let fh;
  if (reparse.folder) {
    await mkdir(path, 0o700);
    fh = await open(path, DIR_FLAGS);
  } else {
    fh = await open(path, NEW_STREAM, 0o600);
  }
  try {
    const entry = { fdPath: descriptorPath(fh.fd), path };
    if (withSecurity && w.securityDescriptor) await setAttribute(entry, 'system.ntfs_acl', w.securityDescriptor);
    const flags = w.fileAttributes & SETTABLE;
    if (flags !== (reparse.folder ? 0 : ARCHIVE)) await setAttribute(entry, 'system.ntfs_attrib', u32(flags));
    await setAttribute(entry, 'system.ntfs_reparse_data', reparse.value);
    await setAttribute(entry, 'system.ntfs_times', ntfsTimes(w));
  } finally {
    await fh.close();
  }
  await settleTypeChange(path);
  return true;
}

/** An Interix symlink's data: this magic, then the target in UTF-16LE (what ntfs-3g's symlink(2) writes, and reads as a link). */
const INTERIX_MAGIC = Buffer.from('IntxLNK\x01', 'latin1');
const SYSTEM = 0x0004;

/**
 * Makes entry `name` of `dir` the restore point's Interix symlink (ntfs-3g's kind: a SYSTEM file holding the magic
 * and the target) with its times, creation time included: a new regular file gets the data written with write(2)
 * (the target is file data, never a path or an argument), the security descriptor and the times through its
 * descriptor, and last the SYSTEM flag, which makes it a link to ntfs-3g. Made with symlink(2) instead, the link
 * could not be given its creation time: Node opens no link itself (no O_PATH) and fs-xattr has no lsetxattr.
 * `false` without the restore point's Windows attributes (nothing to keep): symlink(2) makes it.
 */
async function writeInterixSymlink(dir: DirHandle, name: Buffer, target: Buffer, w: WindowsAttributes | undefined, withSecurity: boolean): Promise<boolean> {
  if (!w) return false;
  const path = dir.child(name);
  const fh = await open(path, NEW_STREAM, 0o600);
  try {
    const data = Buffer.concat([INTERIX_MAGIC, Buffer.from(target.toString('utf8'), 'utf16le')]);
    for (let at = 0; at < data.length; ) at += (await fh.write(data, at, data.length - at, at)).bytesWritten;
    const entry = { fdPath: descriptorPath(fh.fd), path };
    if (withSecurity && w.securityDescriptor) await setAttribute(entry, 'system.ntfs_acl', w.securityDescriptor);
    await setAttribute(entry, 'system.ntfs_times', ntfsTimes(w));
    await setAttribute(entry, 'system.ntfs_attrib', u32((w.fileAttributes & SETTABLE) | SYSTEM));
  } finally {
    await fh.close();
  }
  await settleTypeChange(path);
  return true;
}

/**
 * The entry at `path` was a file or folder to the kernel and is now a link to ntfs-3g: the first look at it finds the
 * type changed, marks the kernel's inode stale and fails with EIO; the next lookup makes a new one. That first look is
 * taken here, so that the renames and clean-ups that follow see the link.
 */
async function settleTypeChange(path: Buffer): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await lstat(path);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EIO' || attempt >= 2) throw e;
    }
  }
}

/** The flags ntfs-3g gives a new entry: archive for a file, none for a folder; compression as `begin` left it. */
function defaultFlags(item: GuestItem, w: WindowsAttributes): number {
  return (item.type === 'file' ? ARCHIVE : 0) | (w.fileAttributes & COMPRESSED);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** `system.ntfs_times`: creation, last write, last access, MFT change (which ntfs-3g sets itself). */
function ntfsTimes(w: WindowsAttributes): Buffer {
  const b = Buffer.alloc(32);
  b.writeBigUInt64LE(w.times.creation, 0);
  b.writeBigUInt64LE(w.times.write, 8);
  b.writeBigUInt64LE(w.times.access, 16);
  b.writeBigUInt64LE(w.times.write, 24);
  return b;
}

async function setAttribute(entry: NewEntry, name: string, value: Buffer): Promise<void> {
  try {
    await setXattr(entry.fdPath, name, value);
  } catch (e) {
    throw new OpenemError('INTERNAL', `ntfs-3g refused ${name} on a restored entry: ${(e as Error).message}`, { cause: e });
  }
}
