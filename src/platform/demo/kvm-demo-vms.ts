import { mkdir, mkdtemp, open, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOCK_SIZE } from '../../disks/block-source.js';
import { writeGptWithSinglePartition } from '../../disks/gpt-writer.js';
import type { DiskWriter, VmConfig } from '../platform.js';
import type { KvmPlatform } from '../kvm/kvm-platform.js';
import { buildExt4InImage } from '../local/ext4-image-builder.js';
import { ROOT_PARTITION_OFFSET } from '../local/create-vm-from-directory.js';
import { GuestTreeWriter } from './guest-tree-writer.js';
import { writeLinuxBaseTree } from './linux-base-tree.js';

const MIB = 1024 * 1024;

export type KvmDemoVmName = 'kvm-web01' | 'kvm-db01';

interface KvmDemoVm {
  name: KvmDemoVmName;
  cpus: number;
  memoryMiB: number;
  diskSize: number;
  writeTree(tree: GuestTreeWriter): Promise<void>;
}

/** `serve --demo kvm`'s two small guests: little memory and disk, since the machine running the demo is shared. */
export const KVM_DEMO_VMS: readonly KvmDemoVm[] = [
  {
    name: 'kvm-web01', cpus: 1, memoryMiB: 256, diskSize: 256 * MIB,
    writeTree: async (tree) => {
      await writeLinuxBaseTree(tree, 'kvm-web01', [{ name: 'alice', uid: 1000, fullName: 'Alice Weber' }]);
      await tree.file('/var/www/html/index.html', '<!DOCTYPE html>\n<title>kvm-web01</title>\n<p>Served by a KVM guest.</p>\n');
    },
  },
  {
    name: 'kvm-db01', cpus: 1, memoryMiB: 256, diskSize: 256 * MIB,
    writeTree: async (tree) => {
      await writeLinuxBaseTree(tree, 'kvm-db01', [{ name: 'dba', uid: 1000, fullName: 'Dana Bauer' }]);
      await tree.file('/var/lib/postgresql/15/main/PG_VERSION', '15\n', 0o600);
    },
  },
];

export const KVM_DEMO_VM_NAMES: readonly KvmDemoVmName[] = KVM_DEMO_VMS.map((v) => v.name);

/** The guest's disk as a raw sparse image in `work`: a GPT with one Linux partition at 1 MiB holding an ext4 of its tree. */
async function buildGuestDisk(vm: KvmDemoVm, work: string): Promise<string> {
  const root = join(work, 'root');
  await mkdir(root);
  await vm.writeTree(new GuestTreeWriter(root));
  const image = join(work, 'disk0.raw');
  await (await open(image, 'w')).close();
  await truncate(image, vm.diskSize);
  const partSize = vm.diskSize - ROOT_PARTITION_OFFSET - MIB;
  await buildExt4InImage(image, ROOT_PARTITION_OFFSET, partSize, root, vm.name);
  await writeGptWithSinglePartition(image, vm.diskSize, ROOT_PARTITION_OFFSET, partSize, 'root');
  return image;
}

/** Copies a raw image into a disk writer, leaving its all-zero blocks as holes. */
async function copyImage(image: string, to: DiskWriter): Promise<void> {
  const fh = await open(image, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.alloc(BLOCK_SIZE);
    for (let offset = 0; offset < size; offset += BLOCK_SIZE) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(BLOCK_SIZE, size - offset), offset);
      const chunk = buf.subarray(0, bytesRead);
      if (chunk.some((b) => b !== 0)) await to.write(offset, Buffer.from(chunk));
    }
    await to.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Defines the KVM demo guests that do not exist yet on `platform` (so it is safe on every `serve --demo kvm`):
 * each disk is built in a work folder inside `dataDir` (removed after; a killed start's is removed as a
 * `.demo-src-` leftover), written into a new volume of the platform's pool, and the domain is defined only
 * once its disk is complete. Returns the VMs defined.
 */
export async function createKvmDemoVms(platform: KvmPlatform, dataDir: string, log: (line: string) => void = () => undefined): Promise<VmConfig[]> {
  const created: VmConfig[] = [];
  for (const vm of KVM_DEMO_VMS) {
    if (await platform.findVm(vm.name)) continue;
    const work = await mkdtemp(join(dataDir, '.demo-src-'));
    try {
      log(`building KVM demo guest ${vm.name}`);
      const image = await buildGuestDisk(vm, work);
      const staged = await platform.stageNewVm({
        name: vm.name, cpus: vm.cpus, memoryMiB: vm.memoryMiB, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere',
        hierarchyRootId: '', datastoreId: '', disks: [{ name: 'disk0', size: vm.diskSize }],
      });
      try {
        const writer = await staged.openDiskForWrite('disk0');
        try {
          await copyImage(image, writer);
        } finally {
          await writer.close();
        }
        created.push(await staged.commit());
      } catch (e) {
        await staged.abort();
        throw e;
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  return created;
}
