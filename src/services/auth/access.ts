import { forbidden } from '../../errors.js';
import type { Principal } from './principal.js';
import type { RestoreKind } from './roles.js';

/** What scope rules look at for one VM. */
export interface VmRef {
  vmName: string;
  hierarchyRootId: string;
  datastoreId?: string;
}

/**
 * Portal Administrator sees and restores everything; Portal User and Restore Operator only the VMs in their
 * restore scope (em-api.md §4 "Roles and scope"; seed 003 prerequisites).
 */
export function canSeeVm(p: Principal, vm: VmRef): boolean {
  const { role, scope } = p.account;
  if (role === 'portal-admin') return true;
  if (!role) return false;
  if (scope.all) return true;
  if (scope.vms.includes(vm.vmName)) return true;
  if (scope.roots.includes(vm.hierarchyRootId)) return true;
  if (vm.datastoreId !== undefined && scope.datastores.includes(vm.datastoreId)) return true;
  return false;
}

export function assertCanSeeVm(p: Principal, vm: VmRef): void {
  if (!canSeeVm(p, vm)) throw forbidden(`The restore scope of account ${p.account.name} does not include VM ${vm.vmName}`);
}

/** A restore writes into `target` (the original VM, or where a new VM goes); it must be in scope too. */
export function assertCanRestore(p: Principal, kind: RestoreKind, source: VmRef, target: VmRef = source): void {
  assertCanSeeVm(p, source);
  if (p.account.role !== 'portal-admin' && !p.account.scope.kinds.includes(kind)) {
    throw forbidden(`The role of account ${p.account.name} does not grant ${kind === 'vm' ? 'entire VM' : 'file-level'} restore`);
  }
  if (target !== source && !canSeeVm(p, target)) throw forbidden(`The restore would write outside the restore scope of account ${p.account.name}`);
}

export function isAdmin(p: Principal): boolean {
  return p.account.role === 'portal-admin';
}

/** Tasks, restore sessions, mounts and logon sessions belong to the account that made them; a Portal Administrator sees all. */
export function canSeeOwned(p: Principal, ownerAccountId: string): boolean {
  return isAdmin(p) || p.account.id === ownerAccountId;
}

/** For actions only a Portal Administrator may take (starting jobs, other accounts' objects). */
export function assertAdmin(p: Principal, what: string): void {
  if (!isAdmin(p)) throw forbidden(`Only a Portal Administrator may ${what}`);
}

/** The items whose VM is in the principal's restore scope, in their order (collections are filtered, issue #6 §1). */
export function visibleVms<T>(p: Principal, items: T[], vmOf: (item: T) => VmRef): T[] {
  if (isAdmin(p)) return items;
  return items.filter((i) => canSeeVm(p, vmOf(i)));
}
