import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageFileSource } from '../disks/image-file-source.js';
import { PartitionSource } from '../disks/partition-source.js';
import { badRequest, conflict, OpenemError } from '../errors.js';
import { debugfsCommand, setAttributesCommands } from './debugfs-script.js';
import { checkFilesystemClean, imageWithOffset, runE2fsTool } from './e2fsprogs.js';
import { Ext4Reader } from './ext4-reader.js';
import { S_IFDIR, S_IFREG } from './ext4-inode.js';
import { INCOMPAT } from './ext4-superblock.js';
import type { GuestEntryType } from './guest-filesystem.js';
import { guestPathComponents, normaliseGuestPath } from './guest-path.js';

/** One thing to put into the guest filesystem. */
export interface GuestWriteItem {
  guestPath: string;
  type: 'file' | 'dir' | 'symlink';
  /** Host file holding the bytes (type `file`). */
  sourceFile?: string;
  /** Target of a symlink (type `symlink`). */
  linkTarget?: string;
  /** Permission bits (0o7777); the type bits are added here. Ignored for symlinks. */
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

export interface GuestWriteResult {
  /** Paths written, normalised, in order. */
  written: string[];
  /** Parent folders that did not exist and were created. */
  createdParents: string[];
}

/** Safety margin for metadata the estimate misses (directory growth, extent blocks, journal). */
const SPARE_BLOCKS = 64;

/**
 * Writes files, folders and symlinks into the ext4 filesystem `partitionOffset` bytes into a disk
 * image, with e2fsprogs `debugfs -w` in one batch, then proves the result with our reader and
 * `e2fsck -fn`. An existing file or symlink at a path is replaced; missing parents are created.
 * Checks free blocks and inodes BEFORE writing (NO_SPACE). The image must not be mounted or in
 * use by a running guest: debugfs bypasses any kernel holding it.
 */
export async function writeGuestFiles(
  imagePath: string, partitionOffset: number, items: GuestWriteItem[],
): Promise<GuestWriteResult> {
  if (items.length === 0) return { written: [], createdParents: [] };
  const image = imageWithOffset(imagePath, partitionOffset);
  const plan = await planWrites(imagePath, partitionOffset, items);

  const dir = await mkdtemp(join(tmpdir(), 'openem-debugfs-'));
  try {
    const cmdFile = join(dir, 'commands');
    await writeFile(cmdFile, plan.commands.join('\n') + '\n');
    const r = await runE2fsTool('debugfs', ['-w', '-f', cmdFile, image]);
    // debugfs exits 0 even when a command fails; its errors are the stderr lines past the banner.
    const errors = r.stderr.split('\n').filter((l) => l.trim() && !/^debugfs \d/.test(l));
    if (r.code !== 0 || errors.length) {
      throw new OpenemError('INTERNAL', `debugfs failed writing into ${imagePath}: ${errors.join('; ') || `exit ${r.code}`}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await verifyWritten(imagePath, partitionOffset, plan.expected);
  await checkFilesystemClean(imagePath, partitionOffset);
  return { written: plan.expected.map((e) => e.path), createdParents: plan.createdParents };
}

interface WritePlan {
  commands: string[];
  expected: { path: string; type: GuestEntryType; size?: number }[];
  createdParents: string[];
}

async function withReader<T>(imagePath: string, offset: number, use: (fs: Ext4Reader) => Promise<T>): Promise<T> {
  const src = await ImageFileSource.open(imagePath);
  try {
    return await use(await Ext4Reader.open(new PartitionSource(src, offset, src.size - offset)));
  } finally {
    await src.close();
  }
}

/** Turns the items into debugfs commands against what the filesystem holds now; checks space. */
function planWrites(imagePath: string, offset: number, items: GuestWriteItem[]): Promise<WritePlan> {
  return withReader(imagePath, offset, async (fs) => {
    const blockSize = fs.superblock.blockSize;
    // debugfs does not replay the journal: writing past an unreplayed one would be undone or corrupted.
    if (fs.superblock.featureIncompat & INCOMPAT.RECOVER) {
      throw conflict('guest filesystem needs journal recovery (unclean shutdown); run e2fsck on it first');
    }
    // What each path will be once the earlier commands of this batch have run.
    const state = new Map<string, GuestEntryType | 'absent'>();
    const typeAt = async (p: string) => state.get(p) ?? (await fs.stat(p))?.type ?? 'absent';
    const plan: WritePlan = { commands: [], expected: [], createdParents: [] };
    let needBlocks = 0;
    let needInodes = 0;
    let freedBlocks = 0;

    for (const item of items) {
      const path = normaliseGuestPath(item.guestPath);
      if (path === '/') throw badRequest('cannot replace the guest root folder');
      const parts = guestPathComponents(path);
      for (let i = 1; i < parts.length; i++) {
        const parent = '/' + parts.slice(0, i).join('/');
        const t = await typeAt(parent);
        if (t === 'dir') continue;
        if (t !== 'absent') throw conflict(`cannot create ${path}: ${parent} exists and is not a folder`);
        plan.commands.push(debugfsCommand('mkdir', parent));
        plan.createdParents.push(parent);
        state.set(parent, 'dir');
        needBlocks += 1;
        needInodes += 1;
      }

      const existing = await typeAt(path);
      if (existing === 'dir' && item.type !== 'dir') throw conflict(`cannot replace folder ${path} with a ${item.type}`);
      if (existing !== 'absent' && existing !== 'dir') {
        // Credit the blocks the replaced file frees (only its last link frees them), so replacing
        // a big file on a full disk works.
        const old = state.has(path) ? undefined : await fs.stat(path);
        if (old && (await fs.readInode(old.inode)).linksCount === 1) {
          freedBlocks += Math.floor(((await fs.allocatedBytes(path)) ?? 0) / blockSize);
        }
        plan.commands.push(debugfsCommand('rm', path));
        state.set(path, 'absent');
      }

      const cost = await addItemCommands(plan, item, path, existing === 'dir', blockSize);
      needBlocks += cost;
      if (existing !== 'dir') needInodes += 1;
      state.set(path, item.type);
    }

    const free = fs.freeSpace();
    const available = free.freeBlocks + freedBlocks - SPARE_BLOCKS;
    if (needBlocks > available || needInodes > free.freeInodes) {
      throw new OpenemError(
        'NO_SPACE',
        `guest filesystem is too full: need ~${needBlocks} blocks and ${needInodes} inodes of ${blockSize} bytes, ` +
          `have ${Math.max(0, available)} blocks and ${free.freeInodes} inodes free`,
      );
    }
    return plan;
  });
}

/** Appends the commands creating one item; returns the blocks it will take. */
async function addItemCommands(
  plan: WritePlan, item: GuestWriteItem, path: string, dirExists: boolean, blockSize: number,
): Promise<number> {
  const attrs = { uid: item.uid, gid: item.gid, mtime: item.mtime };
  if (item.type === 'dir') {
    if (!dirExists) plan.commands.push(debugfsCommand('mkdir', path));
    plan.commands.push(...setAttributesCommands(path, { ...attrs, mode: S_IFDIR | (item.mode & 0o7777) }));
    plan.expected.push({ path, type: 'dir' });
    return dirExists ? 0 : 1;
  }
  if (item.type === 'symlink') {
    if (item.linkTarget === undefined || item.linkTarget === '') throw badRequest(`symlink ${path} has no target`);
    plan.commands.push(debugfsCommand('symlink', path, item.linkTarget));
    // Symlink mode stays 0777 (Linux ignores it); owner and mtime are restored.
    plan.commands.push(...setAttributesCommands(path, attrs));
    plan.expected.push({ path, type: 'symlink', size: Buffer.byteLength(item.linkTarget) });
    return Buffer.byteLength(item.linkTarget) >= 60 ? 1 : 0;
  }
  if (!item.sourceFile) throw badRequest(`file ${path} has no source file`);
  const size = (await stat(item.sourceFile)).size;
  // `write` needs an absolute destination; debugfs links it into the parent folder by its last name.
  plan.commands.push(debugfsCommand('write', item.sourceFile, path));
  plan.commands.push(...setAttributesCommands(path, { ...attrs, mode: S_IFREG | (item.mode & 0o7777) }));
  plan.expected.push({ path, type: 'file', size });
  const dataBlocks = Math.ceil(size / blockSize);
  // One extent block per ~340 extents is generous for freshly allocated (mostly contiguous) data.
  return dataBlocks + Math.ceil(dataBlocks / 4096);
}

/** Reads the result back with our own reader: every item is there, with the right type and size. */
function verifyWritten(imagePath: string, offset: number, expected: WritePlan['expected']): Promise<void> {
  return withReader(imagePath, offset, async (fs) => {
    for (const e of expected) {
      const got = await fs.stat(e.path);
      if (!got || got.type !== e.type || (e.size !== undefined && got.size !== e.size)) {
        throw new OpenemError(
          'INTERNAL',
          `after debugfs, ${e.path} is ${got ? `a ${got.type} of ${got.size} bytes` : 'missing'}; expected a ${e.type}` +
            (e.size !== undefined ? ` of ${e.size} bytes` : ''),
        );
      }
    }
  });
}
