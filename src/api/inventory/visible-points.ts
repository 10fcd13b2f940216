import type { ApiContext } from '../api-context.js';
import type { Principal } from '../../services/auth/logon-sessions.js';
import { canSeeVm, isAdmin, type VmRef } from '../../services/auth/access.js';
import { listVmRestorePoints, type VmRestorePointRecord } from '../../services/inventory/restore-point-records.js';
import { forbidden } from '../../errors.js';

/** The scope view of a VM restore point: its VM's name, hierarchy root and (if the VM still exists) datastore. */
export async function vmRefOf(ctx: ApiContext, point: VmRestorePointRecord): Promise<VmRef> {
  const vm = await ctx.platform.findVm(point.vmId);
  return { vmName: point.vmName, hierarchyRootId: point.hierarchyRootId, datastoreId: vm?.datastoreId };
}

/** VM restore points the caller may see (everything for a Portal Administrator). */
export async function visiblePoints(ctx: ApiContext, p: Principal, filter: { vmName?: string; restorePointId?: string } = {}): Promise<VmRestorePointRecord[]> {
  const all = await listVmRestorePoints(ctx, filter);
  if (isAdmin(p)) return all;
  const out: VmRestorePointRecord[] = [];
  for (const r of all) if (canSeeVm(p, await vmRefOf(ctx, r))) out.push(r);
  return out;
}

/** A direct URL to an object outside the caller's scope gets 403 (issue #6). */
export async function assertPointVisible(ctx: ApiContext, p: Principal, point: VmRestorePointRecord): Promise<void> {
  if (!isAdmin(p) && !canSeeVm(p, await vmRefOf(ctx, point))) throw forbidden(`The restore scope of account ${p.account.name} does not include VM ${point.vmName}`);
}
