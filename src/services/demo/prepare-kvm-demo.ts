import { badRequest } from '../../errors.js';
import { join } from 'node:path';
import { createKvmDemoVms, KVM_DEMO_ROOT_OFFSET, KVM_DEMO_VM_NAMES } from '../../platform/demo/kvm-demo-vms.js';
import { KvmPlatform } from '../../platform/kvm/kvm-platform.js';
import type { AppContext } from '../app-services.js';
import { DEMO_LIBVIRT_FOLDER } from './demo-libvirt.js';
import { backUpAroundAChange, say } from './prepare-demo.js';

/**
 * `openem serve --demo kvm`: the KVM demo guests on the (first) kvm platform, each backed up twice around a
 * change in its guest, like the local demo's VMs. Guests that exist already are left as they are, so every
 * later start is quick. The local demo VMs are not made: this demo is the KVM guests instead of them.
 */
export async function prepareKvmDemo(ctx: AppContext): Promise<void> {
  const kvm = ctx.platform.platforms.find((p): p is KvmPlatform => p instanceof KvmPlatform);
  if (!kvm) throw badRequest('the KVM demo needs a kvm platform');
  const vms = await createKvmDemoVms(kvm, join(ctx.config.dataDir, DEMO_LIBVIRT_FOLDER, 'boot'), (line) => {
    say(`${line}…`);
    ctx.log.info(line);
  });
  if (vms.length === 0) return;
  await backUpAroundAChange(ctx, vms, KVM_DEMO_ROOT_OFFSET);
  say(`KVM demo data ready (${KVM_DEMO_VM_NAMES.join(', ')})`);
}
