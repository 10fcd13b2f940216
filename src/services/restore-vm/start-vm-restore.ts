import type { AppContext } from '../app-services.js';
import type { Principal } from '../auth/logon-sessions.js';
import { assertCanRestore, type VmRef } from '../auth/access.js';
import type { VmRestorePointRecord } from '../inventory/restore-point-records.js';
import type { TaskRecord } from '../../tasks/task-types.js';
import { vmRestoreWork } from './run-vm-restore.js';
import type { VmRestoreRequest } from './vm-restore-request.js';

/**
 * Starts an entire-VM restore: checks the caller's restore scope (for the VM and for where a new VM would
 * go), claims the VM so no second restore of it can start, and submits the StartVMRestore task (seed 001).
 */
export async function startVmRestore(ctx: AppContext, principal: Principal, point: VmRestorePointRecord, request: VmRestoreRequest): Promise<TaskRecord> {
  const source: VmRef = { vmName: point.vmName, hierarchyRootId: point.hierarchyRootId };
  let target: VmRef = source;
  if (request.target.kind === 'new-vm') {
    const datastoreId = request.target.datastoreId;
    const ds = datastoreId ? (await ctx.platform.datastores()).find((d) => d.id === datastoreId) : undefined;
    target = { vmName: request.target.name, hierarchyRootId: ds?.hierarchyRootId ?? point.hierarchyRootId, datastoreId };
  }
  assertCanRestore(principal, 'vm', source, target);

  const reservation = ctx.restoreScheduler.reserveVm(point.vmId, point.vmName, 'a restore starting now');
  try {
    return await ctx.tasks.submit(
      { operation: 'StartVMRestore', kind: 'restore-vm', accountId: principal.account.id, payload: { vmRestorePointId: point.id, request } },
      vmRestoreWork(ctx, { accountId: principal.account.id, vmId: point.vmId, vmName: point.vmName, request, releaseVm: reservation.release }),
    );
  } catch (e) {
    reservation.release();
    throw e;
  }
}
