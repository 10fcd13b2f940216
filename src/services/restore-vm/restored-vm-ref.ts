import type { PresentedPlatform, VmConfig } from '../../platform/platform.js';

const PREFIX: Record<PresentedPlatform, string> = { vsphere: 'urn:VMware:Vm', hyperv: 'urn:HyperV:Vm', vcloud: 'urn:vCloud:Vm' };

/** The restored VM as a HierarchyObjRef (`urn:VMware:Vm:<root>.<vm>`, em-api.md §3), for RestoredObjRef. */
export function restoredVmRef(vm: VmConfig): string {
  return `${PREFIX[vm.platform]}:${vm.hierarchyRootId}.${vm.id}`;
}
