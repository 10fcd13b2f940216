import { KvmPlatform } from '../../../src/platform/kvm/kvm-platform.js';
import type { PresentedPlatform } from '../../../src/platform/platform.js';
import { removeEverything, useSharedLibvirt } from '../kvm/private-libvirt.js';
import { runPlatformContract } from './platform-contract.js';

// The kvm platform presents one way per configuration (kvm-platform-config.test.ts checks the others); the contract runs on one
// private libvirt daemon that each test leaves empty.
const sharedLibvirt = useSharedLibvirt();
for (const presentAs of ['vsphere'] as PresentedPlatform[]) {
  runPlatformContract({
    name: 'kvm platform',
    presentations: [presentAs],
    reportsHoles: true,
    changeTracking: true,
    open: async () => {
      const libvirt = await sharedLibvirt();
      // Guests without an OS ignore ACPI: a short grace before destroy keeps the power test quick.
      const platform = await KvmPlatform.open({ uri: libvirt.uri, presentAs, shutdownTimeoutMs: 500 });
      return { platform, close: async () => removeEverything(libvirt) };
    },
  });
}
