import type { ApiContext } from '../api-context.js';
import type { Principal } from '../../services/auth/logon-sessions.js';
import type { HierarchyRootInfo, PresentedPlatform } from '../../platform/platform.js';
import { canSeeVm, isAdmin } from '../../services/auth/access.js';
import { hierarchyRef, type HierarchyObjectType } from './hierarchy-refs.js';
import { wildcardMatcher } from '../query/wildcard.js';

/** One object of the virtual infrastructure, as `/lookup` answers it (XSD HierarchyItemType). */
export interface HierarchyItem {
  ref: string;
  type: HierarchyObjectType;
  name: string;
}

/**
 * The object types a lookup may name, per platform (lookup_query.md), by lower-case name. openem's inventory
 * holds only hierarchy roots, datastores and VMs; the other types are valid and simply have no objects.
 */
const LOOKUP_TYPES: Record<PresentedPlatform, string[]> = {
  vsphere: ['VM', 'Host', 'Cluster', 'Template', 'VirtualApp', 'Vc', 'Datacenter', 'Folder', 'Datastore', 'ComputeResource', 'ResourcePool', 'Tag', 'Category', 'StoragePod'],
  vcloud: ['VcdSystem', 'Organization', 'OrgVdc', 'Vapp', 'Vm', 'VappTemplate', 'VmTemplate', 'Datastore'],
  hyperv: ['Vm', 'Host', 'Cluster', 'Scvmm', 'HostGroup', 'VmGroup'],
};

/** The documented type a lookup names (any casing), or undefined when the root's platform has no such type. */
export function lookupType(platform: PresentedPlatform, type: string): string | undefined {
  return LOOKUP_TYPES[platform].find((t) => t.toLowerCase() === type.toLowerCase());
}

export function lookupTypesOf(platform: PresentedPlatform): string[] {
  return LOOKUP_TYPES[platform];
}

/** The root's own type: a vCenter, a Hyper-V host, a Cloud Director system. */
const ROOT_TYPE: Record<PresentedPlatform, HierarchyObjectType> = { vsphere: 'Vc', hyperv: 'Host', vcloud: 'VcdSystem' };

/**
 * The objects of one type on one hierarchy root, from the platform's live inventory. A Portal User or Restore
 * Operator sees the VMs of its restore scope, and datastores and roots only where its scope names them.
 */
export async function hierarchyItems(ctx: ApiContext, p: Principal, root: HierarchyRootInfo, type: string, name: string): Promise<HierarchyItem[]> {
  // `*` matches any run of characters; names compare without regard to case, as EM's lookup does.
  const matches = wildcardMatcher(name);
  const { scope } = p.account;
  const all = isAdmin(p) || scope.all;
  const out: HierarchyItem[] = [];
  const add = (t: HierarchyObjectType, id: string, objectName: string) => {
    const ref = hierarchyRef(root.platform, t, root.id, id);
    if (ref && matches(objectName)) out.push({ ref, type: t, name: objectName });
  };
  const t = type.toLowerCase();
  if (t === 'vm') {
    for (const vm of await ctx.platform.listVms()) {
      if (vm.hierarchyRootId !== root.id) continue;
      if (isAdmin(p) || canSeeVm(p, { vmName: vm.name, hierarchyRootId: vm.hierarchyRootId, datastoreId: vm.datastoreId })) add('Vm', vm.id, vm.name);
    }
  } else if (t === 'datastore') {
    for (const ds of await ctx.platform.datastores()) {
      if (ds.hierarchyRootId !== root.id) continue;
      if (all || scope.roots.includes(root.id) || scope.datastores.includes(ds.id)) add('Datastore', ds.id, ds.name);
    }
  } else if (t === ROOT_TYPE[root.platform].toLowerCase()) {
    if (all || scope.roots.includes(root.id)) add(ROOT_TYPE[root.platform], root.id, root.name);
  }
  return out;
}
