import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { GuestOsKind, PresentedPlatform, VmConfig } from '../platform.js';
import { createVmFromDirectory } from '../local/create-vm-from-directory.js';
import type { LocalPlatform } from '../local/local-platform.js';
import { writeApp01Tree } from './app01-tree.js';
import { exch01NtfsExtras } from './exch01-ntfs-extras.js';
import { writeExch01Tree } from './exch01-tree.js';
import { writeDb01Tree } from './db01-tree.js';
import { writeFiles01Tree } from './files01-tree.js';
import { GuestTreeWriter } from './guest-tree-writer.js';
import { writeWeb01Tree } from './web01-tree.js';
import { notFound } from '../../errors.js';

export type DemoVmName = 'web01' | 'db01' | 'files01' | 'app01' | 'exch01';

interface DemoVm {
  name: DemoVmName;
  platform: PresentedPlatform;
  os: GuestOsKind;
  cpus: number;
  memoryMiB: number;
  writeTree(tree: GuestTreeWriter): Promise<void>;
  /** Windows: what is added on the built NTFS volume itself (compressed folder, named streams). */
  ntfsExtras?(root: string): Promise<void>;
}

/** One demo VM per presented platform at least, so every request flavour has something to restore. */
export const DEMO_VMS: readonly DemoVm[] = [
  { name: 'web01', platform: 'vsphere', os: 'linux', cpus: 2, memoryMiB: 2048, writeTree: writeWeb01Tree },
  { name: 'db01', platform: 'hyperv', os: 'linux', cpus: 4, memoryMiB: 8192, writeTree: writeDb01Tree },
  { name: 'files01', platform: 'vsphere', os: 'linux', cpus: 2, memoryMiB: 4096, writeTree: writeFiles01Tree },
  { name: 'app01', platform: 'vcloud', os: 'linux', cpus: 2, memoryMiB: 2048, writeTree: writeApp01Tree },
  // Seed 000's own example VM: a Windows Exchange server on Hyper-V.
  { name: 'exch01', platform: 'hyperv', os: 'windows', cpus: 4, memoryMiB: 16384, writeTree: writeExch01Tree, ntfsExtras: exch01NtfsExtras },
];

export const DEMO_VM_NAMES: readonly DemoVmName[] = DEMO_VMS.map((v) => v.name);

/** Each demo disk is 2 GiB virtual; only the written blocks take space (exch01's NTFS volume behind an MBR). */
export const DEMO_DISK_SIZE = 2 * 1024 ** 3;

/**
 * Writes the guest files of demo VM `name` under `dir` (which should be empty). The content is a pure
 * function of the VM name, so a test can regenerate exactly the bytes that are inside the VM's ext4 (or NTFS, where
 * ntfsExtras adds a compressed folder and named streams on top).
 * Returns the bytes and files written.
 */
export async function writeDemoSourceTree(name: DemoVmName, dir: string): Promise<{ bytes: number; files: number }> {
  const vm = DEMO_VMS.find((v) => v.name === name);
  if (!vm) throw notFound(`no demo VM named '${name}'`);
  const tree = new GuestTreeWriter(dir);
  await vm.writeTree(tree);
  return { bytes: tree.bytesWritten, files: tree.filesWritten };
}

export interface CreateDemoVmsOptions {
  log?: (message: string) => void;
  /** Only these demo VMs (all four by default). */
  only?: readonly DemoVmName[];
  /** Virtual disk size; 2 GiB by default. */
  diskSize?: number;
}

/**
 * Creates the demo VMs that do not exist yet (so it is safe to call on every `serve --demo`).
 * Each guest tree is generated in a temp folder inside the data directory (same filesystem, no tmpfs
 * size limit), built into the VM's ext4 and removed. Returns the VMs created.
 */
export async function createDemoVms(
  platform: LocalPlatform,
  dataDir: string,
  options: CreateDemoVmsOptions = {},
): Promise<VmConfig[]> {
  const log = options.log ?? (() => undefined);
  const created: VmConfig[] = [];
  for (const demo of DEMO_VMS) {
    if (options.only && !options.only.includes(demo.name)) continue;
    if (await platform.findVm(demo.name)) {
      log(`demo VM ${demo.name} already exists`);
      continue;
    }
    const src = await mkdtemp(join(dataDir, '.demo-src-'));
    try {
      const { bytes, files } = await writeDemoSourceTree(demo.name, src);
      log(`building demo VM ${demo.name} (${demo.platform}): ${files} files, ${(bytes / 1024 ** 2).toFixed(1)} MiB`);
      created.push(
        await createVmFromDirectory(platform, {
          name: demo.name,
          fromDir: src,
          size: options.diskSize ?? DEMO_DISK_SIZE,
          platform: demo.platform,
          os: demo.os,
          ntfsExtras: demo.ntfsExtras,
          cpus: demo.cpus,
          memoryMiB: demo.memoryMiB,
        }),
      );
    } finally {
      await rm(src, { recursive: true, force: true });
    }
  }
  return created;
}
