/**
 * One fixture factory per GuestWriter backend: a guest filesystem built from a host folder, a writer into it, and an
 * oracle that reads the result with the filesystem's own tools (never openem's reader, which the writer itself uses).
 * The contract suite (guest-writer.contract.test.ts) runs on every backend listed here; NTFS joins with an ntfs-3g
 * writer and ntfscat/ntfsls as its oracle.
 */
import { execFileSync } from 'node:child_process';
import { lchownSync, lstatSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

export const GUEST_WRITER_BACKENDS: GuestWriterBackend[] = [fuse2fsBackend];
