import type { PresentedPlatform } from '../../platform/platform.js';

/**
 * Hierarchy object references (`HierarchyObjRefType`, constructing_hierarchyobjreftype.md):
 * `urn:<Platform>:<Type>:<HierarchyRootId>.<ObjectRef>`, where the object part is what the platform calls it
 * (a vSphere mo-ref like `vm-…`, a Cloud Director URN like `urn:vcloud:datastore:…`). VMs are written as the
 * VmRestorePoint's `HierarchyObjRef` writes them (inventory/vm-restore-point-kind.ts), so both agree.
 */
export type HierarchyObjectType = 'Vm' | 'Datastore' | 'Vc' | 'Host' | 'VcdSystem';

const PLATFORM_PREFIX: Record<PresentedPlatform, string> = { vsphere: 'VMware', hyperv: 'HyperV', vcloud: 'vCloud' };

/** How each platform writes an object's own id inside the reference. */
const OBJECT_PART: Record<PresentedPlatform, Partial<Record<HierarchyObjectType, (id: string) => string>>> = {
  vsphere: { Vm: (id) => `vm-${id}`, Datastore: (id) => `datastore-${id}`, Vc: (id) => id },
  hyperv: { Vm: (id) => id, Host: (id) => id },
  vcloud: { Vm: (id) => `urn:vcloud:vm:${id}`, Datastore: (id) => `urn:vcloud:datastore:${id}`, VcdSystem: (id) => id },
};

/** The reference of one object, or undefined when the platform has no such type. */
export function hierarchyRef(platform: PresentedPlatform, type: HierarchyObjectType, rootId: string, objectId: string): string | undefined {
  const part = OBJECT_PART[platform][type];
  return part ? `urn:${PLATFORM_PREFIX[platform]}:${type}:${rootId}.${part(objectId)}` : undefined;
}

export interface ParsedHierarchyRef {
  platform: PresentedPlatform;
  type: string;
  rootId: string;
  /** The object's own id, with the platform's decoration (`vm-`, `urn:vcloud:datastore:`) taken off. */
  objectId: string;
}

const REF = /^urn:(VMware|HyperV|vCloud):([A-Za-z]+):([0-9A-Fa-f-]{36})\.(.+)$/i;

/** Reads a reference built by `hierarchyRef` (any casing of platform and type), or undefined. */
export function parseHierarchyRef(ref: string): ParsedHierarchyRef | undefined {
  const m = REF.exec(ref);
  if (!m) return undefined;
  const platform = (Object.keys(PLATFORM_PREFIX) as PresentedPlatform[]).find((p) => PLATFORM_PREFIX[p].toLowerCase() === m[1].toLowerCase())!;
  const type = (Object.keys(OBJECT_PART[platform]) as HierarchyObjectType[]).find((t) => t.toLowerCase() === m[2].toLowerCase()) ?? m[2];
  const part = OBJECT_PART[platform][type as HierarchyObjectType];
  let objectId = m[4];
  if (part) {
    const prefix = part('');
    if (prefix && objectId.toLowerCase().startsWith(prefix.toLowerCase())) objectId = objectId.slice(prefix.length);
  }
  return { platform, type, rootId: m[3].toLowerCase(), objectId };
}
