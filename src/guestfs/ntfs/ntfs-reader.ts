import { Readable } from 'node:stream';
import type { BlockSource } from '../../disks/block-source.js';
import { badRequest, corrupt, notFound, OpenemError } from '../../errors.js';
import type { ByteRange, GuestEntry, GuestFilesystem, WindowsEntryDetails } from '../guest-filesystem.js';
import { guestPathComponents, normaliseGuestPath } from '../guest-path.js';
import { LruCache } from '../lru-cache.js';
import { resolveGuestPath, type GuestTree } from '../resolve-guest-path.js';
import { walkGuestTree } from '../walk-guest-tree.js';
import { readBootSector, type NtfsBootSector } from './ntfs-boot-sector.js';
import { listFolderEntries } from './ntfs-folder-listing.js';
import { NtfsFolders } from './ntfs-folders.js';
import { NtfsMft } from './ntfs-mft.js';
import { NtfsSecure } from './ntfs-secure.js';
import { attributeStream, DATA_ELSEWHERE_TAGS, namedStreams, nodeOf, nodeSize, ntfsTimesOf, ownSecurityDescriptor, type NtfsNode } from './ntfs-node.js';
import { ATTR } from './ntfs-record.js';
import { dataRangesOf, readStream, streamBytes, type NtfsStream } from './ntfs-stream.js';
import { upcaseKey, type NameKey } from './ntfs-upcase.js';

const ROOT_RECORD = 5;
const UPCASE_RECORD = 10;

/**
 * A read-only NTFS reader over a block source (no mounting, no ntfs-3g): boot sector, $MFT with fixups and
 * attribute lists, resident and non-resident attributes, sparse and LZNT1-compressed streams, $I30 indexes
 * ($INDEX_ROOT, and every in-use block of $INDEX_ALLOCATION by its $BITMAP), hard links, named streams and reparse
 * points.
 *
 * Names are matched as Windows does: case-insensitively through the volume's $UpCase, an exact match first (a POSIX
 * name space may hold names that differ only in case). `file:stream` names an alternate data stream. Junctions,
 * Windows symlinks and Interix symlinks (ntfs-3g's) are links; followed in the middle of a path, an absolute target
 * starts at this volume's root, so no link leads outside the volume. DOS 8.3 aliases and the metafiles are not
 * listed. Encrypted files and files whose data lives elsewhere (deduplication, WOF) are NOT_IMPLEMENTED to read.
 * Every size, offset and run is checked against the record or the volume before use: a damaged or hostile volume
 * gives CORRUPT, never a crash, a hang or an allocation beyond what the volume could hold.
 * Caches assume the volume does not change underneath; open a new reader after writing.
 */
export class NtfsReader implements GuestFilesystem {
  private readonly folders: NtfsFolders;
  private readonly secure: NtfsSecure;

  private constructor(
    private readonly mft: NtfsMft,
    private readonly key: NameKey,
  ) {
    this.folders = new NtfsFolders(mft, key);
    this.secure = new NtfsSecure(mft);
  }

  /** Index entries left out so far because their name cannot be a path component (isUsableGuestName). */
  get unusableNames(): number {
    return this.folders.unusableNames;
  }

  get boot(): NtfsBootSector {
    return this.mft.boot;
  }

  /** Reads of the $MFT so far (record chunks and listing spans), for benchmarks and tests that count work. */
  get mftReads(): number {
    return this.mft.mftReads;
  }

  /** Opens the volume at the start of `source` (wrap a partition in a PartitionSource). */
  static async open(source: BlockSource): Promise<NtfsReader> {
    const boot = await readBootSector(source);
    const mft = await NtfsMft.open(source, boot);
    const upcase = attributeStream(mft, await mft.file(UPCASE_RECORD), ATTR.DATA, '');
    if (!upcase || upcase.size > 2 * 65536) throw corrupt('NTFS $UpCase is missing or larger than 64 Ki entries');
    return new NtfsReader(mft, upcaseKey(await mft.read(upcase, 0, upcase.size)));
  }

  /** File records' main nodes, kept as the records are: a listing asked for again builds none. */
  private readonly nodes = new LruCache<number, Promise<NtfsNode>>(16384);

  /** A file record's node, its owner looked up in $Secure when the record does not carry its own descriptor. */
  private async node(record: number, streamName = ''): Promise<NtfsNode> {
    if (streamName !== '') return this.withOwner(await nodeOf(this.mft, await this.mft.file(record), streamName));
    return this.nodes.getOrCreate(record, async () => this.withOwner(await nodeOf(this.mft, await this.mft.file(record), '')));
  }

  private async withOwner(node: NtfsNode): Promise<NtfsNode> {
    if (node.owner === undefined && node.securityId !== undefined) {
      const owner = await this.secure.ownerOf(node.securityId);
      if (owner) node.owner = owner;
    }
    return node;
  }

  private async childOf(dir: NtfsNode, name: string): Promise<NtfsNode | undefined> {
    const d = await this.folders.of(dir);
    const hit = this.folders.lookup(d, name);
    if (hit) return this.node(hit.record);
    // `file:stream`: an alternate data stream of `file` (streams names are matched case-insensitively too).
    const colon = name.indexOf(':');
    if (colon <= 0) return undefined;
    const base = this.folders.lookup(d, name.slice(0, colon));
    if (!base) return undefined;
    const file = await this.mft.file(base.record);
    const wanted = this.key(name.slice(colon + 1).replace(/:\$DATA$/i, ''));
    if (wanted === '') return this.node(base.record);
    const stream = namedStreams(this.mft, file).find((s) => this.key(s.name) === wanted);
    return stream ? this.withOwner(await nodeOf(this.mft, file, stream.name)) : undefined;
  }

  /** The tree the generic path lookup walks: file records, names from $I30 indexes, link targets in the volume. */
  private readonly tree: GuestTree<NtfsNode> = {
    root: () => this.node(ROOT_RECORD),
    kindOf: (node) => node.kind,
    child: async (dir, name) => {
      const node = await this.childOf(dir, name);
      return node && { node };
    },
    linkTarget: async (node) => Buffer.from(node.link!.inVolume, 'utf8'),
  };

  private async resolve(path: string): Promise<NtfsNode | undefined> {
    return (await resolveGuestPath(this.tree, path))?.node;
  }

  private async resolveExisting(path: string): Promise<NtfsNode> {
    const node = await this.resolve(path);
    if (!node) throw notFound(`guest path ${normaliseGuestPath(path)} does not exist`);
    return node;
  }

  /** The node of an entry this reader made: its id is the record number, or `record:stream` for a named stream. */
  private nodeOfEntry(entry: GuestEntry): Promise<NtfsNode> {
    if (typeof entry.id === 'number') return this.node(entry.id);
    const m = /^(\d+):(.+)$/.exec(entry.id);
    if (!m) throw badRequest(`guest path ${entry.path} is not an entry of this NTFS volume`);
    return this.node(Number(m[1]), m[2]);
  }

  private toEntry(path: string, node: NtfsNode, name?: string): GuestEntry {
    const parts = guestPathComponents(path);
    const entry: GuestEntry = {
      path: '/' + parts.join('/'),
      name: name ?? parts[parts.length - 1] ?? '',
      type: node.kind,
      size: nodeSize(node),
      mtime: node.mtime,
      atime: node.atime,
      ctime: node.ctime,
      birthtime: node.birthtime,
      id: node.streamName ? `${node.file.number}:${node.streamName}` : node.file.number,
    };
    if (node.owner) entry.owner = node.owner;
    return entry;
  }

  async stat(path: string): Promise<GuestEntry | undefined> {
    const node = await this.resolve(path);
    return node && this.toEntry(path, node);
  }

  private async entries(dirPath: string, dir: NtfsNode): Promise<GuestEntry[]> {
    if (dir.kind !== 'dir' || dir.streamName) throw badRequest(`guest path ${dirPath} is not a directory`);
    const d = await this.folders.of(dir);
    const prefix = dirPath === '/' ? '/' : `${dirPath}/`;
    d.listed ??= {
      prefix,
      entries: listFolderEntries(this.mft, this.secure, d.entries, prefix, async (e) => this.toEntry(prefix + e.name, await this.node(e.record), e.name)),
    };
    const listed = await d.listed.entries;
    // The entries are shared by the listings of one spelling (nobody changes a GuestEntry it is given): copying
    // 10,000 of them cost more than reading them.
    if (d.listed.prefix === prefix) return listed.slice();
    return listed.map((e) => ({ ...e, path: prefix + e.name }));
  }

  async list(path: string): Promise<GuestEntry[]> {
    return this.entries(normaliseGuestPath(path), await this.resolveExisting(path));
  }

  async listEntry(dir: GuestEntry): Promise<GuestEntry[]> {
    return this.entries(dir.path, await this.nodeOfEntry(dir));
  }

  /** The alternate data streams of an entry (name and size), for restores that keep them. */
  async streams(entry: GuestEntry): Promise<{ name: string; size: number }[]> {
    const node = await this.nodeOfEntry(entry);
    return namedStreams(this.mft, node.file);
  }

  /**
   * What Windows keeps beside an entry's data, for restores: its FILE_ATTRIBUTE_* flags, its security descriptor
   * (its own, or the one $Secure shares under its security id) and its named streams, each readable as the entry
   * `<path>:<stream>` (id `<record>:<stream>`) through dataRanges and createEntryReadStream.
   */
  async windowsDetails(entry: GuestEntry): Promise<WindowsEntryDetails> {
    const node = await this.nodeOfEntry(entry);
    const own = await ownSecurityDescriptor(this.mft, node.file);
    const securityDescriptor = own ?? (node.securityId === undefined ? undefined : await this.secure.descriptorOf(node.securityId));
    const streams = node.kind === 'symlink' || node.streamName ? [] : namedStreams(this.mft, node.file);
    return {
      fileAttributes: node.fileAttributes,
      times: ntfsTimesOf(node),
      securityDescriptor,
      ...(node.reparseValue && !node.streamName ? { reparsePoint: { value: node.reparseValue, folder: node.file.isDirectory } } : {}),
      streams: streams.map((s) => ({ ...s, entry: { ...entry, path: `${entry.path}:${s.name}`, name: `${entry.name}:${s.name}`, type: 'file' as const, size: s.size, id: `${node.file.number}:${s.name}` } })),
    };
  }

  async readlink(path: string): Promise<string> {
    const node = await this.resolveExisting(path);
    if (node.kind !== 'symlink') throw badRequest(`guest path ${normaliseGuestPath(path)} is not a symlink`);
    return node.link!.target;
  }

  async readlinkBytes(link: GuestEntry): Promise<Buffer> {
    const node = await this.nodeOfEntry(link);
    if (node.kind !== 'symlink') throw badRequest(`guest path ${link.path} is not a symlink`);
    return Buffer.from(node.link!.target, 'utf8');
  }

  /** The data stream of a regular file (or named stream), checked readable by openem. */
  private fileStream(node: NtfsNode, path: string): NtfsStream {
    if (node.kind !== 'file') throw badRequest(`guest path ${path} is not a regular file`);
    const s = node.stream;
    if (!s) return { size: 0, initializedSize: 0, resident: Buffer.alloc(0), runs: [], clusterSize: this.boot.clusterSize, unitBytes: 0, encrypted: false };
    if (s.encrypted) throw new OpenemError('NOT_IMPLEMENTED', `guest file ${path} is encrypted`);
    if (!node.streamName && node.reparseTag !== undefined && DATA_ELSEWHERE_TAGS.has(node.reparseTag)) {
      throw new OpenemError('NOT_IMPLEMENTED', `guest file ${path} keeps its data outside the file (reparse tag 0x${node.reparseTag.toString(16)})`);
    }
    return s;
  }

  async dataRanges(file: GuestEntry): Promise<ByteRange[]> {
    return dataRangesOf(this.fileStream(await this.nodeOfEntry(file), file.path));
  }

  async createEntryReadStream(file: GuestEntry, range: ByteRange): Promise<Readable> {
    const s = this.fileStream(await this.nodeOfEntry(file), file.path);
    return streamBytes(this.mft.source, s, Math.max(0, range.start), range.end);
  }

  async read(path: string, offset: number, length: number): Promise<Buffer> {
    if (offset < 0 || length < 0) throw badRequest('read offset and length must not be negative');
    const s = this.fileStream(await this.resolveExisting(path), normaliseGuestPath(path));
    return readStream(this.mft.source, s, offset, offset + length);
  }

  async createReadStream(path: string, range: { start?: number; end?: number } = {}): Promise<Readable> {
    const s = this.fileStream(await this.resolveExisting(path), normaliseGuestPath(path));
    return streamBytes(this.mft.source, s, Math.max(0, range.start ?? 0), range.end ?? s.size);
  }

  walk(path = '/'): AsyncIterable<GuestEntry> {
    return walkGuestTree(this, path);
  }

  async close(): Promise<void> {
    // The source belongs to the caller.
  }
}
