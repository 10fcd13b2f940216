import { badRequest } from '../../errors.js';
/** Enterprise Manager's roles that may log on (seed 003 prerequisites, em-api.md §4 "Roles and scope"). */
export type Role = 'portal-admin' | 'portal-user' | 'restore-operator';
export const ROLES: Role[] = ['portal-admin', 'portal-user', 'restore-operator'];

export const ROLE_DISPLAY: Record<Role, string> = {
  'portal-admin': 'Portal Administrator',
  'portal-user': 'Portal User',
  'restore-operator': 'Restore Operator',
};

export type RestoreKind = 'vm' | 'file';

/**
 * What a Portal User or Restore Operator may restore: listed VMs (by name), whole hierarchy roots or
 * datastores (by id), or everything; and which restore kinds.
 */
export interface RestoreScope {
  all: boolean;
  vms: string[];
  roots: string[];
  datastores: string[];
  kinds: RestoreKind[];
}

export const EMPTY_SCOPE: RestoreScope = { all: false, vms: [], roots: [], datastores: [], kinds: ['vm', 'file'] };
export const FULL_SCOPE: RestoreScope = { all: true, vms: [], roots: [], datastores: [], kinds: ['vm', 'file'] };

export function isRole(s: string): s is Role {
  return (ROLES as string[]).includes(s);
}

/** `vm:a,b` | `root:<uid>` | `datastore:<id>` | `all`, several separated by `;`. */
export function parseScope(spec: string, kinds: RestoreKind[] = ['vm', 'file']): RestoreScope {
  const scope: RestoreScope = { all: false, vms: [], roots: [], datastores: [], kinds };
  for (const part of spec.split(';').map((s) => s.trim()).filter(Boolean)) {
    if (part === 'all') scope.all = true;
    else if (part.startsWith('vm:')) scope.vms.push(...part.slice(3).split(',').map((s) => s.trim()).filter(Boolean));
    else if (part.startsWith('root:')) scope.roots.push(part.slice(5).replace(/^urn:veeam:HierarchyRoot:/, '').trim());
    else if (part.startsWith('datastore:')) scope.datastores.push(part.slice(10).trim());
    else throw badRequest(`unknown scope "${part}" (expected vm:NAME,… | root:UID | datastore:ID | all)`);
  }
  return scope;
}

export function parseStoredScope(json: string): RestoreScope {
  try {
    return { ...EMPTY_SCOPE, ...(JSON.parse(json) as Partial<RestoreScope>) };
  } catch {
    return EMPTY_SCOPE;
  }
}
