import type { AppContext } from '../app-services.js';
import type { VmRef } from '../auth/access.js';
import type { VmRestorePointRecord } from '../inventory/restore-point-records.js';

/** The VM a restore point belongs to, as restore-scope rules see it (datastore from the live VM when it exists). */
export async function vmRefOfPoint(ctx: AppContext, rp: VmRestorePointRecord): Promise<VmRef> {
  const live = await ctx.platform.findVm(rp.vmId);
  return { vmName: rp.vmName, hierarchyRootId: rp.hierarchyRootId, datastoreId: live?.datastoreId };
}
