import { after } from 'node:test';
import { startPrivateLibvirtd, type PrivateLibvirtd } from '../../../src/platform/kvm/private-libvirtd.js';

/**
 * A libvirt daemon of the test's own (src/platform/kvm/private-libvirtd.ts) in a temporary folder: no system
 * service is touched, and `stop` destroys the domains it runs, ends it and removes its folders.
 */
export type PrivateLibvirt = PrivateLibvirtd;

export function startPrivateLibvirt(): Promise<PrivateLibvirt> {
  return startPrivateLibvirtd();
}

/**
 * One private daemon for a whole test file (its first connection probes QEMU for seconds; the tests share that),
 * started on first use and stopped when the file's tests end. Call at the top level of the file.
 */
export function useSharedLibvirt(): () => Promise<PrivateLibvirt> {
  let shared: Promise<PrivateLibvirt> | undefined;
  after(async () => {
    if (shared) await (await shared).stop();
  });
  return () => (shared ??= startPrivateLibvirt());
}

/** Leaves the daemon as it started: no domains, no checkpoints, an empty pool. */
export function removeEverything(libvirt: PrivateLibvirt): void {
  for (const uuid of libvirt.virsh('list', '--all', '--uuid').split('\n').map((l) => l.trim()).filter(Boolean)) {
    if (libvirt.virsh('domstate', uuid).trim() !== 'shut off') libvirt.virsh('destroy', uuid);
    libvirt.virsh('undefine', uuid, '--checkpoints-metadata');
  }
  libvirt.virsh('pool-refresh', 'openem');
  for (const line of libvirt.virsh('vol-list', 'openem').split('\n').map((l) => l.trim()).filter(Boolean)) {
    libvirt.virsh('vol-delete', '--pool', 'openem', line.split(/\s+/)[0]);
  }
}
