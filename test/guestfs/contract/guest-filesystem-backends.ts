/**
 * One fixture factory per guest filesystem backend: build a filesystem holding a copy of a host folder, and open it
 * with openem's reader. The contract suite (guest-filesystem.contract.test.ts) runs on every backend listed here;
 * NTFS's factory builds the volume the way `openem vm create --os windows` does (an MBR, mkntfs on a loop device over
 * the partition, the tree copied in through ntfs-3g).
 */
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { writeMbrWithSinglePartition } from '../../../src/disks/mbr-writer.js';
import { ImageFileSource } from '../../../src/disks/image-file-source.js';
import type { GuestFilesystem } from '../../../src/guestfs/guest-filesystem.js';
import { openGuestFilesystem } from '../../../src/guestfs/open-guest-filesystem.js';
import { buildNtfsInImage } from '../../../src/platform/local/ntfs-image-builder.js';
import { makeImage } from '../fixtures/ext4-images.js';

export interface GuestFilesystemBackend {
  name: string;
  /** Whether entries carry POSIX mode, uid and gid. */
  posix: boolean;
  /** A filesystem holding a copy of the host folder `tree`, in an image under `scratch`; the caller closes it. */
  build(tree: string, scratch: string): Promise<{ fs: GuestFilesystem; close(): Promise<void> }>;
}

/** Opens the image the way a restore point's disk is opened: through the probes, as a block source. */
async function openImage(image: string) {
  const source = await ImageFileSource.open(image);
  const opened = await openGuestFilesystem(source);
  if (!opened.fs) {
    await source.close();
    throw new Error(`no filesystem found in ${image}: ${opened.reason}`);
  }
  return { fs: opened.fs, close: () => source.close() };
}

export const ext4Backend: GuestFilesystemBackend = {
  name: 'ext4',
  posix: true,
  async build(tree, scratch) {
    const image = join(scratch, 'ext4.img');
    makeImage(image, tree, { size: '32M', mkfsArgs: ['-b', '4096'] });
    return openImage(image);
  },
};

const MiB = 1024 * 1024;

export const ntfsBackend: GuestFilesystemBackend = {
  name: 'ntfs',
  posix: false,
  async build(tree, scratch) {
    const image = join(scratch, 'ntfs.img');
    const fd = openSync(image, 'w');
    ftruncateSync(fd, 64 * MiB);
    closeSync(fd);
    await buildNtfsInImage(image, MiB, 62 * MiB, tree, 'contract');
    await writeMbrWithSinglePartition(image, MiB, 62 * MiB);
    return openImage(image);
  },
};

export const GUEST_FILESYSTEM_BACKENDS: GuestFilesystemBackend[] = [ext4Backend, ntfsBackend];
