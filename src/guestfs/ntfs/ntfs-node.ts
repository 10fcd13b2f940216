import { corrupt } from '../../errors.js';
import type { GuestEntryType, NtfsTimes } from '../guest-filesystem.js';
import { MAX_REPARSE_DATA, type NtfsFile, type NtfsMft } from './ntfs-mft.js';
import { ATTR, ntfsTime } from './ntfs-record.js';
import { isInterixSymlink, parseInterixLink, parseReparseLink, reparseTag, type NtfsLink } from './ntfs-reparse.js';
import { ownerOf } from './ntfs-security.js';
import { streamOf, type NtfsStream } from './ntfs-stream.js';

export const FILE_ATTRIBUTE = { SYSTEM: 0x0004, DIRECTORY: 0x0010, REPARSE_POINT: 0x0400, ENCRYPTED: 0x4000 } as const;
/** Reparse tags whose file data lives elsewhere (Windows deduplication, WOF-compressed system files). */
export const DATA_ELSEWHERE_TAGS = new Set([0x80000013, 0x80000017]);
/** A security descriptor's size is a 16-bit field in Windows' APIs. */
const MAX_SECURITY_DESCRIPTOR = 65536;
/** An Interix symlink is a small SYSTEM file; bigger ones are not looked into. */
export const MAX_INTERIX_LINK = 8 + 2 * 4096;

/** A file record as the reader sees it: its kind, times, the stream a path names, and its link if it is one. */
export interface NtfsNode {
  file: NtfsFile;
  kind: GuestEntryType;
  /** The named stream a `name:stream` path selected; `''` is the unnamed (main) data stream. */
  streamName: string;
  stream?: NtfsStream;
  link?: NtfsLink;
  reparseTag?: number;
  /** A junction's or Windows symlink's $REPARSE_POINT value (tag, length, data), as a restore writes it back. */
  reparseValue?: Buffer;
  fileAttributes: number;
  /** From the file's own $SECURITY_DESCRIPTOR; otherwise `securityId` names one shared in $Secure. */
  owner?: string;
  securityId?: number;
  birthtime: Date;
  mtime: Date;
  ctime: Date;
  atime: Date;
  /** The $STANDARD_INFORMATION value the times come from (ntfsTimesOf reads them exact). */
  standardInformation: Buffer;
}

/** A node's creation, write and access times exact, in 100 ns since 1601 (read only for restores: BigInts cost). */
export function ntfsTimesOf(node: NtfsNode): NtfsTimes {
  const si = node.standardInformation;
  return { creation: si.readBigUInt64LE(0x00), write: si.readBigUInt64LE(0x08), access: si.readBigUInt64LE(0x18) };
}

/** A stream of `file` by attribute type and name, its extents joined; `undefined` when the file has none. */
export function attributeStream(mft: NtfsMft, file: NtfsFile, type: number, name: string): NtfsStream | undefined {
  const extents = file.attributes.filter((a) => a.type === type && a.name === name);
  return extents.length ? streamOf(extents, mft.boot.clusterSize, mft.volumeBytes) : undefined;
}

/** The names and sizes of a file's named data streams (alternate data streams). */
export function namedStreams(mft: NtfsMft, file: NtfsFile): { name: string; size: number }[] {
  const names = [...new Set(file.attributes.filter((a) => a.type === ATTR.DATA && a.name !== '').map((a) => a.name))];
  return names.map((name) => ({ name, size: attributeStream(mft, file, ATTR.DATA, name)!.size }));
}

/** Decides what a file record is (folder, link, file) and reads the attributes every entry shows. */
export async function nodeOf(mft: NtfsMft, file: NtfsFile, streamName = ''): Promise<NtfsNode> {
  const si = file.attributes.find((a) => a.type === ATTR.STANDARD_INFORMATION)?.resident;
  if (!si || si.length < 0x24) throw corrupt(`NTFS file record ${file.number} has no $STANDARD_INFORMATION`);
  const node: NtfsNode = {
    file,
    kind: file.isDirectory ? 'dir' : 'file',
    streamName,
    fileAttributes: si.readUInt32LE(0x20),
    birthtime: ntfsTime(si, 0x00),
    mtime: ntfsTime(si, 0x08),
    ctime: ntfsTime(si, 0x10),
    atime: ntfsTime(si, 0x18),
    standardInformation: si,
  };
  if (si.length >= 0x38 && si.readUInt32LE(0x34) !== 0) node.securityId = si.readUInt32LE(0x34);
  const sd = await ownSecurityDescriptor(mft, file);
  if (sd) {
    const owner = ownerOf(sd);
    if (owner) node.owner = owner;
  }
  const reparse = attributeStream(mft, file, ATTR.REPARSE_POINT, '');
  if (reparse) {
    if (reparse.size > MAX_REPARSE_DATA) throw corrupt(`NTFS file record ${file.number} has a reparse point of ${reparse.size} bytes`);
    const value = await mft.read(reparse, 0, reparse.size);
    node.reparseTag = reparseTag(value);
    const link = parseReparseLink(value);
    if (link) {
      node.link = link;
      node.kind = 'symlink';
      node.reparseValue = value;
    }
  }
  if (streamName !== '') {
    if (node.kind !== 'file' && node.kind !== 'dir') return { ...node, kind: 'other' };
    node.stream = attributeStream(mft, file, ATTR.DATA, streamName);
    node.kind = 'file';
    return node;
  }
  if (node.kind === 'file') {
    node.stream = attributeStream(mft, file, ATTR.DATA, '');
    const s = node.stream;
    if (s && node.fileAttributes & FILE_ATTRIBUTE.SYSTEM && s.size >= 8 && s.size <= MAX_INTERIX_LINK && !s.encrypted) {
      const data = await mft.read(s, 0, s.size);
      if (isInterixSymlink(data)) {
        node.link = parseInterixLink(data);
        node.kind = 'symlink';
      }
    }
  }
  return node;
}

/** A file's own $SECURITY_DESCRIPTOR (NTFS 1.x, or kept by the file), `undefined` when it uses a shared one in $Secure. */
export async function ownSecurityDescriptor(mft: NtfsMft, file: NtfsFile): Promise<Buffer | undefined> {
  const sd = attributeStream(mft, file, ATTR.SECURITY_DESCRIPTOR, '');
  if (!sd) return undefined;
  if (sd.size > MAX_SECURITY_DESCRIPTOR) throw corrupt(`NTFS file record ${file.number} has a security descriptor of ${sd.size} bytes`);
  return mft.read(sd, 0, sd.size);
}

/** The size an entry shows: a file's (or named stream's) data size, a link's target length in UTF-8, 0 for folders. */
export function nodeSize(node: NtfsNode): number {
  if (node.kind === 'symlink') return Buffer.byteLength(node.link!.target, 'utf8');
  if (node.kind === 'file') return node.stream?.size ?? 0;
  return 0;
}
