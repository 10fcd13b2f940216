import { corrupt } from '../../errors.js';
import { isUsableGuestName } from '../guest-path.js';

/** One directory entry as stored (ext4 "Linear (Classic) Directories"). */
export interface DirEntry {
  name: string;
  inode: number;
  /** ext4 dirent file type (1 file, 2 dir, 7 symlink, ...), 0 when FILETYPE is off. */
  fileType: number;
  /** The name's bytes, kept only when they are not valid UTF-8 (then `name` is lossy). */
  rawName?: Buffer;
}

/**
 * Parses every live entry of a directory's data, block by block. Hash-indexed (htree) directories
 * parse the same way: the dx_root hides inside `..`'s long rec_len, interior dx nodes are fake
 * entries with inode 0, and the checksum tail has inode 0 too — all skipped here.
 * `.` and `..` are dropped, and so are names no path can name (with `/` or NUL; see isUsableGuestName).
 */
export function parseDirectoryData(data: Buffer, blockSize: number, hasFileType: boolean, ino: number, out: DirEntry[]): number {
  let unusable = 0;
  for (let blockStart = 0; blockStart < data.length; blockStart += blockSize) {
    const block = data.subarray(blockStart, Math.min(data.length, blockStart + blockSize));
    unusable += parseDirents(block, 0, hasFileType, ino, out);
  }
  return unusable;
}

/**
 * Parses dirents in `buf` from `start` to its end (also used for inline-data directories). Returns how many live
 * entries were left out because their name cannot be a path component (`/` or NUL in it): ext4 forbids such names,
 * so only damage or a hostile guest writes them, and listing them would alias other entries.
 */
export function parseDirents(buf: Buffer, start: number, hasFileType: boolean, ino: number, out: DirEntry[]): number {
  let unusable = 0;
  let p = start;
  while (p + 8 <= buf.length) {
    const inode = buf.readUInt32LE(p);
    const recLen = buf.readUInt16LE(p + 4);
    const nameLen = hasFileType ? buf[p + 6] : buf.readUInt16LE(p + 6);
    if (recLen < 8 || p + recLen > buf.length || 8 + nameLen > recLen) {
      // An all-zero tail (unused inline space) ends the list; anything else is damage.
      if (recLen === 0 && inode === 0) return unusable;
      throw corrupt(`directory inode ${ino}: bad entry at offset ${p} (rec_len ${recLen}, name_len ${nameLen})`);
    }
    if (inode !== 0 && nameLen > 0) {
      // Names are bytes on disk; non-UTF-8 bytes decode to U+FFFD (lossy, see ext4-reader docs).
      const name = buf.toString('utf8', p + 8, p + 8 + nameLen);
      if (name === '.' || name === '..') {
        // The folder's own links, not entries.
      } else if (!isUsableGuestName(name)) {
        unusable++;
      } else {
        const entry: DirEntry = { name, inode, fileType: hasFileType ? buf[p + 7] : 0 };
        // A restore must write the name exactly as it was: keep the bytes when decoding lost some.
        if (name.includes('\ufffd')) entry.rawName = Buffer.from(buf.subarray(p + 8, p + 8 + nameLen));
        out.push(entry);
      }
    }
    p += recLen;
  }
  return unusable;
}
