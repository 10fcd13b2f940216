import type { ResourceKind } from '../inventory/resource-kind.js';
import { backupServerKind, hierarchyRootKind } from '../inventory/server-kinds.js';
import { backupKind, jobKind, restorePointKind } from '../inventory/backup-kinds.js';
import { vmRestorePointKind } from '../inventory/vm-restore-point-kind.js';
import { restoreSessionKind, taskKind } from './session-kinds.js';
import { backupJobSessionKind, backupTaskSessionKind } from '../backup-sessions/backup-session-kinds.js';
import { repositoryKind } from '../infrastructure/repository-kind.js';
import { managedServerKind } from '../infrastructure/managed-server-kind.js';
import { backupFileKind } from '../backup-files/backup-file-kind.js';
import { catalogVmKind } from '../catalog-vm-kind.js';
import { ABSENT_QUERY_KINDS } from '../absent/absent-kinds.js';

/** Types the query service answers, by lower-case name (`type` is case-insensitive, em-api.md §4). */
export const QUERY_KINDS = new Map<string, ResourceKind<any>>(
  [vmRestorePointKind, restorePointKind, backupServerKind, jobKind, backupKind, hierarchyRootKind, restoreSessionKind, taskKind, backupJobSessionKind, backupTaskSessionKind, repositoryKind, managedServerKind, backupFileKind, catalogVmKind, ...ABSENT_QUERY_KINDS].map((k) => [k.type.toLowerCase(), k]),
);
