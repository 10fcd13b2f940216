import type { ResourceKind } from '../inventory/resource-kind.js';
import { backupServerKind, hierarchyRootKind } from '../inventory/server-kinds.js';
import { backupKind, jobKind, restorePointKind } from '../inventory/backup-kinds.js';
import { vmRestorePointKind } from '../inventory/vm-restore-point-kind.js';

/** Types the query service answers, by lower-case name (`type` is case-insensitive, em-api.md §4). */
export const QUERY_KINDS = new Map<string, ResourceKind<any>>(
  [vmRestorePointKind, restorePointKind, backupServerKind, jobKind, backupKind, hierarchyRootKind].map((k) => [k.type.toLowerCase(), k]),
);

/** Later areas (restore sessions, tasks) add their kinds here. */
export function registerQueryKind(kind: ResourceKind<any>): void {
  QUERY_KINDS.set(kind.type.toLowerCase(), kind);
}
