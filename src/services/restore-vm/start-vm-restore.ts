import type { AppContext } from '../app-services.js';
import type { Principal } from '../auth/logon-sessions.js';
import { assertCanRestore, type VmRef } from '../auth/access.js';
import type { VmRestorePointRecord } from '../inventory/restore-point-records.js';
import type { TaskRecord } from '../../tasks/task-types.js';
import { vmRestoreWork } from './run-vm-restore.js';
import type { VmRestoreRequest } from './vm-restore-request.js';

/**
 * Starts an entire-VM restore: checks the caller's restore scope (for the VM and for where a new VM would
 * go), claims the VM so no other work on it can start, and submits the StartVMRestore task (seed 001).
 */
export async function startVmRestore(ctx: AppContext, principal: Principal, point: VmRestorePointRecord, request: VmRestoreRequest): Promise<TaskRecord> {
  const live = await ctx.platform.findVm(point.vmId);
  const source: VmRef = { vmName: point.vmName, hierarchyRootId: point.hierarchyRootId, datastoreId: live?.datastoreId };
  let target: VmRef = source;
  // A new VM kept beside the original, on the original's datastore, stays where the caller may restore; only
  // one placed on another datastore must be inside the scope itself (issue #6: "KeepOriginalVM into another datastore").
  if (request.target.kind === 'new-vm' && request.target.datastoreId && request.target.datastoreId !== source.datastoreId) {
    const datastoreId = request.target.datastoreId;
    const ds = (await ctx.platform.datastores()).find((d) => d.id === datastoreId);
    target = { vmName: request.target.name, hierarchyRootId: ds?.hierarchyRootId ?? point.hierarchyRootId, datastoreId };
  }
  assertCanRestore(principal, 'vm', source, target);

  // Claimed before the 202, so a second piece of work on this VM — here, in the CLI or on another node — gets 409.
  const claim = await ctx.vmClaims.claim({ id: point.vmId, name: point.vmName }, request.quickRollback ? 'quick-rollback' : 'vm-restore', 'a restore starting now');
  try {
    return await ctx.tasks.submit(
      { operation: 'StartVMRestore', kind: 'restore-vm', accountId: principal.account.id, payload: { vmRestorePointId: point.id, request } },
      vmRestoreWork(ctx, { accountId: principal.account.id, vmId: point.vmId, vmName: point.vmName, request, claim }),
    );
  } catch (e) {
    await claim.release();
    throw e;
  }
}
