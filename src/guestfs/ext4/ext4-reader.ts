import { Readable } from 'node:stream';
import type { BlockSource } from '../../disks/block-source.js';
import { badRequest, corrupt, notFound, OpenemError } from '../../errors.js';
import { parseDirectoryData, parseDirents, type DirEntry } from './ext4-directory.js';
import { readBlockRuns, type BlockRun } from './ext4-extents.js';
import { planFileReads, readPlanned, STREAM_READ_CHUNK, streamPlanned } from './ext4-file-reads.js';
import { inlineDataXattr, inodeType, listedInodeEntry, INODE_FLAGS, parseInode, ROOT_INODE, type Ext4Inode } from './ext4-inode.js';
import { descriptorBlockNumber, INCOMPAT, readSuperblock, type Ext4Superblock } from './ext4-superblock.js';
import type { ByteRange, GuestEntry, GuestFilesystem } from '../guest-filesystem.js';
import { guestPathComponents, normaliseGuestPath } from '../guest-path.js';
import { LruCache } from '../lru-cache.js';
import { resolveGuestPath, type GuestTree } from '../resolve-guest-path.js';
import { walkGuestTree } from '../walk-guest-tree.js';

/** Inode tables are read in chunks of this size, so listing a directory reads few, large pieces. */
const INODE_CHUNK = 64 * 1024;

export interface Ext4FreeSpace {
  blockSize: number;
  freeBlocks: number;
  freeInodes: number;
  /** Blocks reserved for root (the guest's users may not use them). */
  reservedBlocks: number;
}

/**
 * A read-only ext2/3/4 reader over a block source (no mounting, no kernel).
 *
 * Paths: absolute, `/`-separated, normalised lexically (never above the root). The final
 * component is never followed (stat is lstat; list/read of a symlink is BAD_REQUEST), but symlinks
 * in the middle of a path are followed, resolved inside the guest (an absolute target starts at the
 * guest root), so `/lib/x` works where `/lib -> usr/lib`.
 * Names are decoded as UTF-8; where that loses bytes, entries also carry the raw name (`rawName`), and the
 * by-entry methods (`listEntry`, `readlinkBytes`, `dataRanges`, `createEntryReadStream`) reach every entry
 * exactly, whatever its name. Supported: extents (any depth, unwritten extents read as zeros), old
 * block maps, holes, htree directories (read linearly), fast and slow symlinks, inline data,
 * 32- and 64-bit descriptors, META_BG. Not supported: encrypted files, a dirty journal is not
 * replayed (reads see the last checkpointed state).
 * Caches assume the filesystem does not change underneath; open a new reader after writing.
 */
export class Ext4Reader implements GuestFilesystem {
  private readonly inodeChunks = new LruCache<number, Promise<Buffer>>(64);
  private readonly metaBlocks = new LruCache<number, Promise<Buffer>>(256);
  private readonly blockRuns = new LruCache<number, Promise<BlockRun[]>>(4096);
  /** Weighted by entry count so one huge directory cannot pin unbounded memory. */
  private readonly directories = new LruCache<number, Promise<Directory>>(200_000);
  /** Directory entries left out so far because their name cannot be a path component (isUsableGuestName). */
  unusableNames = 0;

  private constructor(
    private readonly source: BlockSource,
    readonly superblock: Ext4Superblock,
    private readonly inodeTables: number[],
    private readonly freeBlocksByGroup: number[],
    private readonly freeInodesByGroup: number[],
  ) {}

  /** Opens the filesystem at the start of `source` (wrap a partition in a PartitionSource). */
  static async open(source: BlockSource): Promise<Ext4Reader> {
    const sb = await readSuperblock(source);
    const descPerBlock = sb.blockSize / sb.descSize;
    const inodeTables: number[] = [];
    const freeBlocks: number[] = [];
    const freeInodes: number[] = [];
    for (let db = 0; db * descPerBlock < sb.groupCount; db++) {
      const block = await source.read(descriptorBlockNumber(sb, db) * sb.blockSize, sb.blockSize);
      for (let i = 0; i < descPerBlock && db * descPerBlock + i < sb.groupCount; i++) {
        const d = block.subarray(i * sb.descSize, (i + 1) * sb.descSize);
        const big = sb.descSize >= 64;
        inodeTables.push(d.readUInt32LE(0x8) + (big ? d.readUInt32LE(0x28) * 2 ** 32 : 0));
        freeBlocks.push(d.readUInt16LE(0xc) + (big ? d.readUInt16LE(0x2c) * 65536 : 0));
        freeInodes.push(d.readUInt16LE(0xe) + (big ? d.readUInt16LE(0x2e) * 65536 : 0));
      }
    }
    return new Ext4Reader(source, sb, inodeTables, freeBlocks, freeInodes);
  }

  /** Free space from the group descriptors (the kernel updates these; the superblock totals lag). */
  freeSpace(): Ext4FreeSpace {
    return {
      blockSize: this.superblock.blockSize,
      freeBlocks: this.freeBlocksByGroup.reduce((a, b) => a + b, 0),
      freeInodes: this.freeInodesByGroup.reduce((a, b) => a + b, 0),
      reservedBlocks: this.superblock.reservedBlocksCount,
    };
  }

  async readInode(ino: number): Promise<Ext4Inode> {
    const sb = this.superblock;
    const offset = this.inodeOffset(ino);
    const chunkStart = offset - (offset % INODE_CHUNK);
    const chunk = await this.inodeChunk(chunkStart);
    const raw = chunk.subarray(offset - chunkStart, offset - chunkStart + sb.inodeSize);
    if (raw.length < 128) throw corrupt(`inode ${ino} lies past the end of the disk`);
    return parseInode(ino, raw, sb.blockSize);
  }

  /** The inode of an entry this reader made (its id is the inode number). */
  private inodeOf(entry: GuestEntry): Promise<Ext4Inode> {
    if (typeof entry.id !== 'number') throw badRequest(`guest path ${entry.path} is not an entry of this ext4 filesystem`);
    return this.readInode(entry.id);
  }

  private inodeChunk(chunkStart: number): Promise<Buffer> {
    return this.inodeChunks.getOrCreate(chunkStart, () => this.readOwn(chunkStart, INODE_CHUNK));
  }

  /** Byte offset of an inode in the filesystem. */
  private inodeOffset(ino: number): number {
    const sb = this.superblock;
    if (ino < 1 || ino > sb.inodesCount) throw corrupt(`inode number ${ino} is out of range`);
    const group = Math.floor((ino - 1) / sb.inodesPerGroup);
    return this.inodeTables[group] * sb.blockSize + ((ino - 1) % sb.inodesPerGroup) * sb.inodeSize;
  }

  /**
   * The entries of one directory with their inodes. A big folder's inodes sit in a few inode-table chunks:
   * each chunk is fetched once (all in flight together), then every inode decodes synchronously from its
   * chunk, so 10,000 entries cost a handful of reads and no per-entry promise.
   */
  private async entriesWithInodes(dirPath: string, dirents: DirEntry[]): Promise<GuestEntry[]> {
    const offsets = new Array<number>(dirents.length);
    const starts = new Set<number>();
    for (let i = 0; i < dirents.length; i++) {
      const offset = this.inodeOffset(dirents[i].inode);
      offsets[i] = offset;
      starts.add(offset - (offset % INODE_CHUNK));
    }
    const chunks = new Map<number, Buffer>();
    await Promise.all([...starts].map(async (start) => chunks.set(start, await this.inodeChunk(start))));
    const prefix = dirPath === '/' ? '/' : `${dirPath}/`;
    const out = new Array<GuestEntry>(dirents.length);
    for (let i = 0; i < dirents.length; i++) {
      const { name, inode: ino } = dirents[i];
      const start = offsets[i] - (offsets[i] % INODE_CHUNK);
      const at = offsets[i] - start;
      const chunk = chunks.get(start)!;
      if (at + 128 > chunk.length) throw corrupt(`inode ${ino} lies past the end of the disk`);
      out[i] = listedInodeEntry(chunk, at, this.superblock.inodeSize, prefix + name, name, ino);
      if (dirents[i].rawName) out[i].rawName = dirents[i].rawName;
    }
    return out;
  }

  /** Bytes of the source for this reader's caches, in a buffer of their own (see ownBytes). */
  private async readOwn(offset: number, length: number): Promise<Buffer> {
    return ownBytes(await this.source.read(offset, length));
  }

  private readBlock = (block: number): Promise<Buffer> => {
    const bs = this.superblock.blockSize;
    return this.metaBlocks.getOrCreate(block, () => this.readOwn(block * bs, bs));
  };

  private runsOf(inode: Ext4Inode): Promise<BlockRun[]> {
    return this.blockRuns.getOrCreate(inode.ino, () =>
      readBlockRuns(inode, { blockSize: this.superblock.blockSize, readBlock: this.readBlock }),
    );
  }

  /** Reads bytes [start, end) of an inode's data (files, directories, slow symlinks). */
  private async readInodeData(inode: Ext4Inode, start: number, end: number): Promise<Buffer> {
    end = Math.min(end, inode.size);
    if (end <= start) return Buffer.alloc(0);
    if (inode.flags & INODE_FLAGS.INLINE_DATA) return inlineBytes(inode).subarray(start, end);
    return readPlanned(this.source, planFileReads(await this.runsOf(inode), this.superblock.blockSize, start, end));
  }

  private async directory(inode: Ext4Inode): Promise<Directory> {
    const hasFileType = (this.superblock.featureIncompat & INCOMPAT.FILETYPE) !== 0;
    const load = async () => {
      const entries: DirEntry[] = [];
      if (inode.flags & INODE_FLAGS.INLINE_DATA) {
        // Inline directory: 4-byte parent inode, then dirents in i_block and in system.data.
        this.unusableNames += parseDirents(inode.iBlock, 4, hasFileType, inode.ino, entries);
        this.unusableNames += parseDirents(inlineDataXattr(inode), 0, hasFileType, inode.ino, entries);
      } else {
        const data = await this.readInodeData(inode, 0, inode.size);
        this.unusableNames += parseDirectoryData(data, this.superblock.blockSize, hasFileType, inode.ino, entries);
      }
      return { entries };
    };
    const weight = Math.max(1, Math.ceil(inode.size / 32));
    return this.directories.getOrCreate(inode.ino, load, weight);
  }

  /** The tree the generic path lookup walks: inodes, names from directory blocks, link targets. */
  private readonly tree: GuestTree<Ext4Inode> = {
    root: () => this.readInode(ROOT_INODE),
    kindOf: (inode) => inodeType(inode.mode),
    child: async (dir, name) => {
      const entry = byNameOf(await this.directory(dir)).get(name);
      if (!entry) return undefined;
      return { node: await this.readInode(entry.inode), rawName: entry.rawName };
    },
    linkTarget: (inode) => this.linkTarget(inode),
  };

  /** Resolves a path to its inode; the last component is not followed. `undefined` if missing. */
  private async resolve(path: string, last?: { rawName?: Buffer }): Promise<Ext4Inode | undefined> {
    const found = await resolveGuestPath(this.tree, path);
    if (found && last) last.rawName = found.rawName;
    return found?.node;
  }

  private async resolveExisting(path: string): Promise<Ext4Inode> {
    const inode = await this.resolve(path);
    if (!inode) throw notFound(`guest path ${normaliseGuestPath(path)} does not exist`);
    return inode;
  }

  private async linkTarget(inode: Ext4Inode): Promise<Buffer> {
    // Fast symlink: target inline in i_block. Like the kernel, decide by "no data blocks" (i_blocks
    // minus an xattr block if any), not by length: old tools wrote short targets to blocks too.
    const eaSectors = inode.fileAcl ? this.superblock.blockSize / 512 : 0;
    const isFast = !(inode.flags & INODE_FLAGS.INLINE_DATA) && inode.blocks - eaSectors === 0;
    return isFast ? Buffer.from(inode.iBlock.subarray(0, inode.size)) : await this.readInodeData(inode, 0, inode.size);
  }

  private toEntry(path: string, inode: Ext4Inode, rawName?: Buffer): GuestEntry {
    const parts = guestPathComponents(path);
    const entry: GuestEntry = {
      path: '/' + parts.join('/'),
      name: parts[parts.length - 1] ?? '',
      type: inodeType(inode.mode),
      size: inode.size,
      mtime: new Date(inode.mtimeMs),
      mode: inode.mode,
      uid: inode.uid,
      gid: inode.gid,
      id: inode.ino,
    };
    if (rawName) entry.rawName = rawName;
    return entry;
  }

  async stat(path: string): Promise<GuestEntry | undefined> {
    const last: { rawName?: Buffer } = {};
    const inode = await this.resolve(path, last);
    return inode && this.toEntry(path, inode, last.rawName);
  }

  /** Bytes allocated to a path (data, extent and xattr blocks), from i_blocks; `undefined` if missing. */
  async allocatedBytes(path: string): Promise<number | undefined> {
    const inode = await this.resolve(path);
    return inode && inode.blocks * 512;
  }

  async list(path: string): Promise<GuestEntry[]> {
    const dir = await this.resolveExisting(path);
    const base = normaliseGuestPath(path);
    if (inodeType(dir.mode) !== 'dir') throw badRequest(`guest path ${base} is not a directory`);
    return this.entriesWithInodes(base, (await this.directory(dir)).entries);
  }

  async listEntry(dir: GuestEntry): Promise<GuestEntry[]> {
    const inode = await this.inodeOf(dir);
    if (inodeType(inode.mode) !== 'dir') throw badRequest(`guest path ${dir.path} is not a directory`);
    return this.entriesWithInodes(dir.path, (await this.directory(inode)).entries);
  }

  async readlink(path: string): Promise<string> {
    const inode = await this.resolveExisting(path);
    if (inodeType(inode.mode) !== 'symlink') throw badRequest(`guest path ${normaliseGuestPath(path)} is not a symlink`);
    return (await this.linkTarget(inode)).toString('utf8');
  }

  async readlinkBytes(link: GuestEntry): Promise<Buffer> {
    const inode = await this.inodeOf(link);
    if (inodeType(inode.mode) !== 'symlink') throw badRequest(`guest path ${link.path} is not a symlink`);
    return this.linkTarget(inode);
  }

  async dataRanges(file: GuestEntry): Promise<ByteRange[]> {
    const inode = await this.fileInode(await this.inodeOf(file), file.path);
    if (inode.size === 0) return [];
    if (inode.flags & INODE_FLAGS.INLINE_DATA) return [{ start: 0, end: inode.size }];
    const bs = this.superblock.blockSize;
    const out: ByteRange[] = [];
    for (const run of await this.runsOf(inode)) {
      // Unwritten (preallocated) extents read as zeros: a restore writes them as holes.
      if (run.uninit) continue;
      const start = run.logical * bs;
      const end = Math.min(inode.size, (run.logical + run.length) * bs);
      if (end <= start) continue;
      const prev = out[out.length - 1];
      if (prev && prev.end === start) prev.end = end;
      else out.push({ start, end });
    }
    return out;
  }

  async createEntryReadStream(file: GuestEntry, range: ByteRange): Promise<Readable> {
    return this.streamInode(await this.fileInode(await this.inodeOf(file), file.path), range);
  }

  /** The inode of a regular file, checked readable. */
  private async regularFile(path: string): Promise<Ext4Inode> {
    return this.fileInode(await this.resolveExisting(path), normaliseGuestPath(path));
  }

  private fileInode(inode: Ext4Inode, p: string): Ext4Inode {
    if (inodeType(inode.mode) !== 'file') throw badRequest(`guest path ${p} is not a regular file`);
    if (inode.flags & INODE_FLAGS.ENCRYPT) throw new OpenemError('NOT_IMPLEMENTED', `guest file ${p} is encrypted`);
    return inode;
  }

  async read(path: string, offset: number, length: number): Promise<Buffer> {
    if (offset < 0 || length < 0) throw badRequest('read offset and length must not be negative');
    return this.readInodeData(await this.regularFile(path), offset, offset + length);
  }

  async createReadStream(path: string, range: { start?: number; end?: number } = {}): Promise<Readable> {
    return this.streamInode(await this.regularFile(path), range);
  }

  private async streamInode(inode: Ext4Inode, range: { start?: number; end?: number }): Promise<Readable> {
    const start = Math.max(0, range.start ?? 0);
    const end = Math.min(inode.size, range.end ?? inode.size);
    if (inode.flags & INODE_FLAGS.INLINE_DATA) {
      return Readable.from([inlineBytes(inode).subarray(start, Math.max(start, end))]);
    }
    const steps = planFileReads(await this.runsOf(inode), this.superblock.blockSize, start, Math.max(start, end), STREAM_READ_CHUNK, true);
    return streamPlanned(this.source, steps, { chunk: STREAM_READ_CHUNK });
  }

  walk(path = '/'): AsyncIterable<GuestEntry> {
    return walkGuestTree(this, path);
  }

  async close(): Promise<void> {
    // The source belongs to the caller.
  }
}

/**
 * The bytes in a buffer of their own. A source may hand out a view into a larger buffer of its own cache (a
 * repository disk: 64 KiB of a 1 MiB block); kept in this reader's caches, such views would hold every block they
 * came from long after the source's cache let it go (64 inode pieces and 256 metadata blocks: up to 320 MiB).
 */
function ownBytes(b: Buffer): Buffer {
  return b.byteLength === b.buffer.byteLength ? b : Buffer.from(b);
}

function inlineBytes(inode: Ext4Inode): Buffer {
  return Buffer.concat([inode.iBlock, inlineDataXattr(inode)]).subarray(0, inode.size);
}

/** A folder's entries: all of them in order, and by (decoded) name once a path lookup goes through it. */
interface Directory {
  entries: DirEntry[];
  byName?: Map<string, DirEntry>;
}

/**
 * A folder's entries by name, made on the first lookup through it: a listing alone needs no map (10,000 entries
 * would cost 10,000 pairs and a map of them). Two names that are not UTF-8 may decode alike: the map then finds
 * the last, `entries` keeps both.
 */
function byNameOf(d: Directory): Map<string, DirEntry> {
  if (!d.byName) {
    const map = new Map<string, DirEntry>();
    for (const e of d.entries) map.set(e.name, e);
    d.byName = map;
  }
  return d.byName;
}
