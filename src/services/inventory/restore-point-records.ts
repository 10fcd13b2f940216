import type { BaseContext } from '../../context.js';
import type { VmRestorePointsTable } from '../../state/schema.js';
import type { PresentedPlatform } from '../../platform/platform.js';

/** A VM restore point as the API sees it: a row mirrored from its manifest in the repository. */
export interface VmRestorePointRecord {
  id: string;
  restorePointId: string;
  jobId: string;
  vmId: string;
  vmName: string;
  platform: PresentedPlatform;
  hierarchyRootId: string;
  createdAt: number;
  pointType: 'Full' | 'Increment';
  indexState: 'Indexed' | 'NotIndexed';
  indexMessage: string;
}

export function toVmRestorePointRecord(r: VmRestorePointsTable): VmRestorePointRecord {
  return {
    id: r.id,
    restorePointId: r.restore_point_id,
    jobId: r.job_id,
    vmId: r.vm_id,
    vmName: r.vm_name,
    platform: r.platform as PresentedPlatform,
    hierarchyRootId: r.hierarchy_root_id,
    createdAt: Number(r.created_at),
    pointType: r.point_type as VmRestorePointRecord['pointType'],
    indexState: r.index_state as VmRestorePointRecord['indexState'],
    indexMessage: r.index_message,
  };
}

export async function findVmRestorePoint(ctx: BaseContext, id: string): Promise<VmRestorePointRecord | undefined> {
  const r = await ctx.store.db.selectFrom('vm_restore_points').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
  return r ? toVmRestorePointRecord(r) : undefined;
}

export async function listVmRestorePoints(ctx: BaseContext, filter: { vmName?: string; restorePointId?: string } = {}): Promise<VmRestorePointRecord[]> {
  let q = ctx.store.db.selectFrom('vm_restore_points').selectAll();
  if (filter.vmName !== undefined) q = q.where('vm_name', '=', filter.vmName);
  if (filter.restorePointId !== undefined) q = q.where('restore_point_id', '=', filter.restorePointId);
  const rows = await q.orderBy('created_at', 'desc').execute();
  return rows.map(toVmRestorePointRecord);
}
