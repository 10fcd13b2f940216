import { open } from 'node:fs/promises';
import type { Platform, PresentedPlatform, VmConfig } from '../platform.js';
import type { BootableGuest } from './kvm-guest-image.js';

const CHUNK = 1024 * 1024;

export interface BootableVmOptions {
  name: string;
  /** Disk size in bytes: at least the guest image's (the ext4 filesystem does not grow into the rest). */
  diskSize: number;
  memoryMiB?: number;
  cpus?: number;
  presentAs?: PresentedPlatform;
  datastoreId?: string;
}

/**
 * Makes a VM of `guest` on a platform that boots kernels (kvm): a new VM booting the guest's kernel, its disk
 * `disk0` holding the guest's root image (only its non-zero chunks are written, so the volume stays thin).
 */
export async function createBootableVm(platform: Platform, guest: BootableGuest, opts: BootableVmOptions): Promise<VmConfig> {
  const staged = await platform.stageNewVm({
    name: opts.name,
    cpus: opts.cpus ?? 1,
    memoryMiB: opts.memoryMiB ?? 192,
    powerState: 'PoweredOff',
    guestOs: 'linux',
    platform: opts.presentAs ?? 'vsphere',
    hierarchyRootId: '',
    datastoreId: opts.datastoreId ?? '',
    disks: [{ name: 'disk0', size: opts.diskSize }],
    boot: { kernel: guest.kernel, initrd: guest.initrd, cmdline: guest.cmdline },
  });
  try {
    const writer = await staged.openDiskForWrite('disk0');
    const image = await open(guest.disk, 'r');
    try {
      const buf = Buffer.alloc(CHUNK);
      for (let at = 0; ; at += CHUNK) {
        const { bytesRead } = await image.read(buf, 0, CHUNK, at);
        if (bytesRead === 0) break;
        const chunk = buf.subarray(0, bytesRead);
        if (chunk.some((b) => b !== 0)) await writer.write(at, Buffer.from(chunk));
      }
      await writer.sync();
    } finally {
      await image.close();
      await writer.close();
    }
    return await staged.commit();
  } catch (e) {
    await staged.abort();
    throw e;
  }
}
