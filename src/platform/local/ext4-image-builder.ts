import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenemError } from '../../errors.js';
import { requireTool, runTool } from './external-tool.js';

const EXT4_MAGIC = 0xef53;
/** The superblock starts 1024 bytes into the filesystem; its magic is 56 bytes into it. */
const SUPERBLOCK_MAGIC_OFFSET = 1024 + 56;
const COPY_CHUNK = 1024 * 1024;

/** mke2fs from e2fsprogs; fails early with a message naming the Debian package if it is missing. */
export function requireMke2fs(): Promise<string> {
  return requireTool('mke2fs', 'e2fsprogs');
}

function mke2fsArgs(fromDir: string, label: string, extended: string[], target: string, bytes: number): string[] {
  // nodiscard: on a regular file "discard" means punching holes, and old mke2fs versions did that
  // without honouring offset=, which would wipe the partition table in front of the filesystem.
  const ext = ['nodiscard', ...extended].join(',');
  return ['-q', '-F', '-t', 'ext4', '-L', label, '-d', fromDir, '-E', ext, target, `${Math.floor(bytes / 1024)}k`];
}

/** What mke2fs -d prints when the tree does not fit (libext2fs: EXT2_ET_BLOCK_ALLOC_FAIL, EXT2_ET_INODE_ALLOC_FAIL). */
const DOES_NOT_FIT = /Could not allocate (block|inode)|No space left on device/;

/** Runs mke2fs; a tree that does not fit the filesystem is NO_SPACE, said as such, not an internal failure. */
async function runMke2fs(mke2fs: string, args: string[], fromDir: string, bytes: number): Promise<void> {
  try {
    await runTool(mke2fs, args);
  } catch (e) {
    if (DOES_NOT_FIT.test((e as Error).message)) {
      throw new OpenemError('NO_SPACE', `the files in ${fromDir} do not fit an ext4 filesystem of ${Math.floor(bytes / 1024 / 1024)} MiB; choose a larger disk size`, { cause: e });
    }
    throw e;
  }
}

async function hasExt4MagicAt(image: string, fsOffset: number): Promise<boolean> {
  const fh = await open(image, 'r');
  try {
    const buf = Buffer.alloc(2);
    await fh.read(buf, 0, 2, fsOffset + SUPERBLOCK_MAGIC_OFFSET);
    return buf.readUInt16LE(0) === EXT4_MAGIC;
  } finally {
    await fh.close();
  }
}

/**
 * Builds an ext4 filesystem of `bytes` holding a copy of `fromDir`, at byte `fsOffset` of an existing
 * image, with `mke2fs -d -E offset=`. If the superblock does not show up where it should (an mke2fs
 * that ignores offset=), the filesystem is built in a temp file and copied in, holes kept as holes.
 */
export async function buildExt4InImage(
  image: string,
  fsOffset: number,
  bytes: number,
  fromDir: string,
  label: string,
): Promise<void> {
  const mke2fs = await requireMke2fs();
  const safeLabel = label.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 16) || 'root';
  await runMke2fs(mke2fs, mke2fsArgs(fromDir, safeLabel, [`offset=${fsOffset}`], image, bytes), fromDir, bytes);
  if (await hasExt4MagicAt(image, fsOffset)) return;

  const tmp = await mkdtemp(join(tmpdir(), 'openem-ext4-'));
  try {
    const fsFile = join(tmp, 'fs.img');
    await (await open(fsFile, 'w')).close();
    await runMke2fs(mke2fs, mke2fsArgs(fromDir, safeLabel, [], fsFile, bytes), fromDir, bytes);
    await copyNonZeroBlocks(fsFile, image, fsOffset);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  if (!(await hasExt4MagicAt(image, fsOffset))) {
    throw new OpenemError('INTERNAL', `mke2fs did not leave an ext4 superblock at offset ${fsOffset} of ${image}`);
  }
}

/** Copies `from` into `to` at `offset`, skipping all-zero chunks so the target stays sparse. */
async function copyNonZeroBlocks(from: string, to: string, offset: number): Promise<void> {
  const src = await open(from, 'r');
  const dst = await open(to, 'r+');
  try {
    const buf = Buffer.alloc(COPY_CHUNK);
    for (let at = 0; ; at += COPY_CHUNK) {
      const { bytesRead } = await src.read(buf, 0, COPY_CHUNK, at);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      if (chunk.some((b) => b !== 0)) await dst.write(chunk, 0, bytesRead, offset + at);
    }
  } finally {
    await src.close();
    await dst.close();
  }
}
