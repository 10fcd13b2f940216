import { createHash } from 'node:crypto';
import type { ApiContext } from '../api-context.js';
import type { JobRecord } from '../../services/backup/jobs.js';
import type { PresentedPlatform } from '../../platform/platform.js';
import { listVmRestorePoints } from '../../services/inventory/restore-point-records.js';
import { hierarchyRef } from '../lookup/hierarchy-refs.js';
import { canSeeVm, isAdmin, type VmRef } from '../../services/auth/access.js';
import type { Principal } from '../../services/auth/logon-sessions.js';

/** EM's `Platform` of a Job or Backup (get_backups_id.md: VMware, HyperV, vCloud). */
export const EM_PLATFORM: Record<PresentedPlatform, string> = { vsphere: 'VMware', hyperv: 'HyperV', vcloud: 'vCloud' };

/** One VM of a job as the job's `Includes` show it (ObjectInJobType). */
export interface JobObject {
  /** The VM's id; for a VM no longer on the platform, a stable id derived from the job and the name. */
  id: string;
  name: string;
  /** The VM's HierarchyObjRef, when the platform or one of its restore points still knows where it lives. */
  ref?: string;
  platform?: PresentedPlatform;
}

/** A job with what its VMs say about it: its platform is theirs (issue #10 item 7). */
export interface JobView extends JobRecord {
  objects: JobObject[];
  platform?: PresentedPlatform;
}

function derivedId(jobId: string, name: string): string {
  const h = createHash('sha256').update(`${jobId}\0${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** One VM of the job, with what the scope rules look at for it (the same VmRef the restore points' scope uses). */
async function jobObject(ctx: ApiContext, job: JobRecord, name: string): Promise<{ object: JobObject; scope: VmRef }> {
  const vm = await ctx.platform.findVm(name);
  if (vm) {
    return {
      object: { id: vm.id, name, platform: vm.platform, ref: hierarchyRef(vm.platform, 'Vm', vm.hierarchyRootId, vm.id) },
      scope: { vmName: name, hierarchyRootId: vm.hierarchyRootId, datastoreId: vm.datastoreId },
    };
  }
  // A VM removed from the platform: its latest restore point still says what and where it was.
  const points = await listVmRestorePoints(ctx, { vmName: name });
  const last = points.sort((a, b) => b.createdAt - a.createdAt)[0];
  if (last) {
    return {
      object: { id: last.vmId, name, platform: last.platform, ref: hierarchyRef(last.platform, 'Vm', last.hierarchyRootId, last.vmId) },
      scope: { vmName: name, hierarchyRootId: last.hierarchyRootId },
    };
  }
  return { object: { id: derivedId(job.id, name), name }, scope: { vmName: name, hierarchyRootId: '' } };
}

/**
 * A job as `p` sees it: a Portal User or Restore Operator sees only the VMs of the job in their restore scope
 * (its Includes, and the names in its Description), like every other collection (issue #6 §1).
 */
export async function jobView(ctx: ApiContext, job: JobRecord, p: Principal): Promise<JobView> {
  const all = await Promise.all(job.vmNames.map((n) => jobObject(ctx, job, n)));
  const shown = isAdmin(p) ? all : all.filter((o) => canSeeVm(p, o.scope));
  const objects = shown.map((o) => o.object);
  return { ...job, vmNames: objects.map((o) => o.name), objects, platform: objects.find((o) => o.platform)?.platform };
}
