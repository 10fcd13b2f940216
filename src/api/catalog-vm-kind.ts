import type { ResourceKind } from './inventory/resource-kind.js';
import { visiblePoints } from './inventory/visible-points.js';
import { catalogVmEntity, catalogVmRef, scopedPointsOf } from './catalog-vms.js';

/**
 * Catalog VMs in the query service (`GET /query?type=CatalogVm`; CatalogVm is a key resource, resource_types.md):
 * a VM with indexed restore points the caller may see, by name, rendered as `/catalog/vms` renders it
 * (catalog_vms_vmname.md). Fields: UID, Name, VmName and VmDisplayName (the entity's attribute), all the VM's name.
 */
export const catalogVmKind: ResourceKind<string> = {
  type: 'CatalogVm',
  collection: '/catalog/vms',
  entityList: 'CatalogVms',
  list: async (ctx, p) => [...new Set((await visiblePoints(ctx, p)).map((r) => r.vmName))].sort(),
  // A VM named but out of the caller's scope is refused, as GET /catalog/vms/{vmname} refuses it.
  find: async (ctx, p, name) => ((await scopedPointsOf(ctx, p, name)).length > 0 ? name : undefined),
  id: (name) => encodeURIComponent(name),
  name: (name) => name,
  refLinks: () => [],
  entity: () => ({ links: [], children: [] }),
  renderRef: (base, name, _ctx, elementName) => catalogVmRef(base, name, elementName),
  renderEntity: (base, name) => catalogVmEntity(base, name),
  fields: (name) => ({ uid: `urn:veeam:CatalogVm:${encodeURIComponent(name)}`, name, vmname: name, vmdisplayname: name }),
};
