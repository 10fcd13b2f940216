import { chown, mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { VmConfig } from '../platform.js';
import type { KvmPlatform } from '../kvm/kvm-platform.js';
import { buildBootableGuest } from './kvm-guest-image.js';
import { createBootableVm } from './kvm-guest-vm.js';

const MIB = 1024 * 1024;

export type KvmDemoVmName = 'kvm-web01' | 'kvm-db01';

interface KvmDemoVm {
  name: KvmDemoVmName;
  memoryMiB: number;
  diskSize: number;
  /** Guest path (relative) → content, put into the guest's root beside busybox. */
  files: Record<string, string>;
}

/** `serve --demo kvm`'s two small bootable guests: little memory and disk, since the machine running the demo is shared. */
export const KVM_DEMO_VMS: readonly KvmDemoVm[] = [
  {
    name: 'kvm-web01', memoryMiB: 192, diskSize: 64 * MIB,
    files: { 'etc/motd': 'Welcome to kvm-web01.\n', 'var/www/html/index.html': '<!DOCTYPE html>\n<title>kvm-web01</title>\n<p>Served by a KVM guest.</p>\n' },
  },
  {
    name: 'kvm-db01', memoryMiB: 192, diskSize: 64 * MIB,
    files: { 'etc/motd': 'Welcome to kvm-db01.\n', 'var/lib/postgresql/15/main/PG_VERSION': '15\n' },
  },
];

export const KVM_DEMO_VM_NAMES: readonly KvmDemoVmName[] = KVM_DEMO_VMS.map((v) => v.name);

/** Where the root filesystem of a KVM demo guest's disk starts: the whole disk is its ext4 (root=/dev/vda). */
export const KVM_DEMO_ROOT_OFFSET = 0;

/**
 * Defines the KVM demo guests that do not exist yet on `platform` (so it is safe on every `serve --demo kvm`):
 * bootable guests (kvm-guest-image.ts: Debian's cloud kernel, a busybox initramfs and ext4 root) whose kernel
 * and initramfs stay in `bootDir` (the domains boot them; the folder and they are given the owner of the folder
 * above, the private daemon's user, as whom QEMU reads them) and whose root image is written into a new volume of the platform's pool and then removed. A domain is
 * defined only once its disk is complete. Returns the VMs defined.
 */
export async function createKvmDemoVms(platform: KvmPlatform, bootDir: string, log: (line: string) => void = () => undefined): Promise<VmConfig[]> {
  const created: VmConfig[] = [];
  await mkdir(bootDir, { recursive: true, mode: 0o700 });
  const owner = await stat(dirname(bootDir));
  await chown(bootDir, owner.uid, owner.gid);
  for (const vm of KVM_DEMO_VMS) {
    if (await platform.findVm(vm.name)) continue;
    log(`building KVM demo guest ${vm.name}`);
    const guest = await buildBootableGuest({ dir: bootDir, name: vm.name, diskSize: vm.diskSize, files: vm.files });
    try {
      for (const f of [guest.kernel, guest.initrd]) await chown(f, owner.uid, owner.gid);
      created.push(await createBootableVm(platform, guest, { name: vm.name, diskSize: vm.diskSize, memoryMiB: vm.memoryMiB }));
    } finally {
      await rm(guest.disk, { force: true });
    }
  }
  return created;
}
