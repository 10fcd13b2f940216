import { corrupt } from '../../errors.js';

export const REPARSE_TAG = { MOUNT_POINT: 0xa0000003, SYMLINK: 0xa000000c } as const;
const SYMLINK_FLAG_RELATIVE = 0x1;
const INTERIX_SYMLINK = Buffer.from('IntxLNK\x01', 'latin1');

/** A link as NTFS keeps it: a junction, a Windows symlink, or an Interix symlink (what ntfs-3g makes). */
export interface NtfsLink {
  kind: 'junction' | 'symlink' | 'interix';
  /** The target with `/` separators: `C:/Users` (absolute, with its drive), `../lib`, or `/usr/lib` (Interix). */
  target: string;
  /**
   * The target as a path inside this volume, for the generic lookup: absolute targets (a drive, a volume GUID, an
   * Interix `/…`) start at this volume's root, so a link is never followed outside the volume.
   */
  inVolume: string;
}

/** The tag of a $REPARSE_POINT value. */
export function reparseTag(value: Buffer): number {
  if (value.length < 8) throw corrupt('NTFS reparse point is truncated');
  return value.readUInt32LE(0);
}

function windowsTarget(raw: string): { target: string; inVolume: string } {
  let t = raw.replace(/^\\\?\?\\/, '');
  t = t.replace(/\\/g, '/');
  const drive = /^[A-Za-z]:(\/|$)/.exec(t);
  if (drive) return { target: t, inVolume: '/' + t.slice(2) };
  const volume = /^(Volume\{[^}]*\}|UNC\/)/i.exec(t);
  if (volume) return { target: t, inVolume: '/' + t.slice(volume[0].length) };
  return { target: t, inVolume: t };
}

/** A junction or symlink reparse point as a link; `undefined` for other tags (deduplication, cloud files, WOF). */
export function parseReparseLink(value: Buffer): NtfsLink | undefined {
  const tag = reparseTag(value);
  if (tag !== REPARSE_TAG.MOUNT_POINT && tag !== REPARSE_TAG.SYMLINK) return undefined;
  const dataLength = value.readUInt16LE(4);
  const data = value.subarray(8, 8 + dataLength);
  const pathBuffer = tag === REPARSE_TAG.SYMLINK ? 12 : 8;
  if (data.length < pathBuffer) throw corrupt('NTFS link reparse point is truncated');
  const name = (offset: number, length: number) => {
    const from = pathBuffer + data.readUInt16LE(offset);
    const to = from + data.readUInt16LE(offset + 2);
    if (to > data.length) throw corrupt('NTFS link reparse point has its target outside its data');
    return data.toString('utf16le', from, to);
  };
  const substitute = name(0, 2);
  const print = name(4, 6);
  const relative = tag === REPARSE_TAG.SYMLINK && (data.readUInt32LE(8) & SYMLINK_FLAG_RELATIVE) !== 0;
  const kind = tag === REPARSE_TAG.SYMLINK ? 'symlink' : 'junction';
  if (relative) {
    const t = (print || substitute).replace(/\\/g, '/');
    return { kind, target: t, inVolume: t };
  }
  return { kind, ...windowsTarget(print || substitute) };
}

/** Whether an unnamed $DATA's first bytes are an Interix symlink's (ntfs-3g's symlinks: a SYSTEM file). */
export function isInterixSymlink(head: Buffer): boolean {
  return head.length >= INTERIX_SYMLINK.length && head.subarray(0, INTERIX_SYMLINK.length).equals(INTERIX_SYMLINK);
}

/** An Interix symlink's target (UTF-16 after the magic), `/`-separated as POSIX wrote it. */
export function parseInterixLink(data: Buffer): NtfsLink {
  const t = data.toString('utf16le', INTERIX_SYMLINK.length, data.length - ((data.length - INTERIX_SYMLINK.length) % 2));
  return { kind: 'interix', target: t, inVolume: t };
}
