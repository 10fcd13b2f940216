/**
 * One fixture factory per GuestWriter backend: a guest filesystem built from a host folder, a writer into it, and an
 * oracle that reads the result with the filesystem's own tools (never openem's reader, which the writer itself uses).
 * The contract suite (guest-writer.contract.test.ts) runs on every backend listed here; NTFS joins with an ntfs-3g
 * writer and ntfs-3g's own read-only view as its oracle.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, cpSync, lchownSync, lstatSync as lstatOf, lutimesSync, lstatSync, mkdtempSync, openSync, readdirSync, rmdirSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Ntfs3gWriter } from '../../../src/guestfs/ntfs/ntfs3g-writer.js';
import { buildNtfsInImage } from '../../../src/platform/local/ntfs-image-builder.js';
import { writeGptWithSinglePartition } from '../../../src/disks/gpt-writer.js';
import { Fuse2fsWriter } from '../../../src/guestfs/ext4/fuse2fs-writer.js';
import type { GuestWriter } from '../../../src/guestfs/guest-writer.js';
import { e2fsckClean, fsName, makeImage } from '../fixtures/ext4-images.js';

const MiB = 1024 * 1024;

export interface GuestWriterFixture {
  writer: GuestWriter;
  /** Copies the guest's `path` (a file, folder or link, with owner, mode and times) out into the host folder `into`. */
  extract(path: string, into: string): void;
  /** The filesystem's own checker. */
  check(): { clean: boolean; output: string };
}

export interface GuestWriterBackend {
  name: string;
  /** Whether the filesystem keeps POSIX mode, uid and gid. */
  posix: boolean;
  /** A filesystem holding a copy of host folder `tree`, in an image under `scratch`, with the writer's work root there too. */
  build(tree: string, scratch: string): Promise<GuestWriterFixture>;
}

/** ext4 in a GPT partition 1 MiB into the disk, written through fuse2fs, read back with e2fsprogs' debugfs `rdump`. */
export const fuse2fsBackend: GuestWriterBackend = {
  name: 'ext4 (fuse2fs)',
  posix: true,
  async build(tree, scratch) {
    const disk = join(scratch, 'disk.img');
    const fsBytes = 48 * MiB;
    makeImage(disk, tree, { size: '48M', offset: MiB, mkfsArgs: ['-b', '4096'] });
    await writeGptWithSinglePartition(disk, MiB + fsBytes + MiB, MiB, fsBytes, 'root');
    const writer = new Fuse2fsWriter({ imagePath: disk, offset: MiB, workRoot: join(scratch, 'flr-work') });
    return {
      writer,
      // argv only; the request names are the suite's own (quoted for debugfs's request parser).
      extract: (path, into) => {
        debugfs(disk, `rdump "${path}" "${into}"`);
        // rdump gives links the extracting user's owner: take each link's own from debugfs `stat`.
        for (const [hostPath, guestPath] of linksBelow(into, path === '/' || dirname(path) === '/' ? '' : dirname(path))) {
          const m = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(debugfs(disk, `stat "${guestPath}"`));
          if (!m) throw new Error(`debugfs stat of ${guestPath} shows no owner`);
          lchownSync(hostPath, Number(m[1]), Number(m[2]));
        }
      },
      check: () => e2fsckClean(disk, MiB),
    };
  },
};

function debugfs(disk: string, request: string): string {
  return execFileSync('debugfs', ['-R', request, fsName(disk, MiB)], { encoding: 'utf8', stdio: 'pipe', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
}

/** Every symlink below a host folder, with the guest path it was extracted from (`guestParent` + its path inside). */
function linksBelow(hostRoot: string, guestParent: string, rel = ''): [string, string][] {
  const out: [string, string][] = [];
  for (const name of readdirSync(join(hostRoot, rel))) {
    const p = `${rel}/${name}`;
    const st = lstatSync(join(hostRoot, p));
    if (st.isSymbolicLink()) out.push([join(hostRoot, p), `${guestParent}${p}`]);
    else if (st.isDirectory()) out.push(...linksBelow(hostRoot, guestParent, p));
  }
  return out;
}

/**
 * NTFS in a partition 1 MiB into the disk (built by mkntfs and ntfs-3g), written through ntfs-3g on a partition view,
 * read back through ntfs-3g itself (a read-only mount of a read-only loop device) and checked by `ntfsfix -n`.
 */
export const ntfs3gBackend: GuestWriterBackend = {
  name: 'NTFS (ntfs-3g)',
  posix: false,
  async build(tree, scratch) {
    const disk = join(scratch, 'disk.img');
    const fsBytes = 48 * MiB;
    closeSync(openSync(disk, 'w'));
    truncateSync(disk, MiB + fsBytes + MiB);
    await buildNtfsInImage(disk, MiB, fsBytes, tree, 'contract');
    const writer = new Ntfs3gWriter({ imagePath: disk, offset: MiB, size: fsBytes, workRoot: join(scratch, 'flr-work') });
    return {
      writer,
      extract: (path, into) => withReadOnlyNtfs(disk, MiB, fsBytes, (root) => copyOut(path === '/' ? root : join(root, path), path === '/' ? into : join(into, basename(path)))),
      check: () => ntfsfixClean(disk, MiB, fsBytes),
    };
  },
};

const sbinEnv = { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` };

/** A read-only loop device over the partition, ntfs-3g mounted read-only on it for `fn`'s time; both gone afterwards. */
export function withReadOnlyNtfs<T>(disk: string, offset: number, size: number, fn: (root: string) => T): T {
  const loop = execFileSync('losetup', ['--find', '--show', '--read-only', '--offset', String(offset), '--sizelimit', String(size), '--', disk], { encoding: 'utf8', env: sbinEnv }).trim();
  const root = mkdtempSync(join(tmpdir(), 'openem-ntfs-oracle-'));
  try {
    execFileSync('ntfs-3g', ['-o', 'ro,streams_interface=windows', loop, root], { stdio: 'pipe', env: sbinEnv });
    try {
      return fn(root);
    } finally {
      execFileSync('fusermount', ['-u', root], { env: sbinEnv });
    }
  } finally {
    execFileSync('losetup', ['-d', loop], { env: sbinEnv });
    rmdirSync(root);
  }
}

/** Copies a guest entry out of the read-only mount with its modification times (links' too) and exact link targets. */
function copyOut(from: string, to: string): void {
  cpSync(from, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  const times = (src: string, dst: string) => {
    const st = lstatOf(src);
    if (st.isDirectory()) for (const name of readdirSync(src)) times(join(src, name), join(dst, name));
    lutimesSync(dst, st.atime, st.mtime);
  };
  times(from, to);
}

/** `ntfsfix --no-action` on the partition (through a read-only loop device). */
export function ntfsfixClean(disk: string, offset: number, size: number): { clean: boolean; output: string } {
  const loop = execFileSync('losetup', ['--find', '--show', '--read-only', '--offset', String(offset), '--sizelimit', String(size), '--', disk], { encoding: 'utf8', env: sbinEnv }).trim();
  try {
    const r = spawnSync('ntfsfix', ['--no-action', loop], { encoding: 'utf8', env: sbinEnv });
    const output = r.stdout + r.stderr;
    return { clean: r.status === 0 && /processed successfully/.test(output), output };
  } finally {
    execFileSync('losetup', ['-d', loop], { env: sbinEnv });
  }
}

export const GUEST_WRITER_BACKENDS: GuestWriterBackend[] = [fuse2fsBackend, ntfs3gBackend];
