import type { AccountsTable, LogonSessionsTable, LogonFailuresTable, AuditTable } from './access-tables.js';
import type { JobsTable, RestorePointsTable, VmRestorePointsTable, CatalogEntriesTable, CatalogVolumesTable } from './restore-point-tables.js';
import type { TasksTable, RestoreSessionsTable, MountsTable, VmClaimsTable, LeasesTable, PermissionJournalsTable, PermissionJournalEntriesTable } from './work-tables.js';
import type { BackupJobSessionsTable, BackupTaskSessionsTable } from './backup-session-tables.js';
import type { RepositoryCatalogsTable, RepositoryManifestsTable, RepositoryPacksTable, RepositoryPackRefsTable } from './repository-catalog-tables.js';

export type { AccountsTable, LogonSessionsTable, LogonFailuresTable, AuditTable } from './access-tables.js';
export type { JobsTable, RestorePointsTable, VmRestorePointsTable, CatalogEntriesTable, CatalogVolumesTable } from './restore-point-tables.js';
export type { TasksTable, RestoreSessionsTable, MountsTable, VmClaimsTable, LeasesTable, PermissionJournalsTable, PermissionJournalEntriesTable } from './work-tables.js';
export type { BackupJobSessionsTable, BackupTaskSessionsTable } from './backup-session-tables.js';
export type { RepositoryCatalogsTable, RepositoryManifestsTable, RepositoryPacksTable, RepositoryPackRefsTable } from './repository-catalog-tables.js';

export interface MetaTable {
  key: string;
  value: string;
}

/**
 * The state store's tables. Common subset of SQLite and PostgreSQL: TEXT ids, INTEGER epoch-ms times,
 * JSON as TEXT, booleans as 0/1 integers.
 */
export interface Database {
  accounts: AccountsTable;
  logon_sessions: LogonSessionsTable;
  jobs: JobsTable;
  restore_points: RestorePointsTable;
  vm_restore_points: VmRestorePointsTable;
  catalog_entries: CatalogEntriesTable;
  catalog_volumes: CatalogVolumesTable;
  tasks: TasksTable;
  restore_sessions: RestoreSessionsTable;
  mounts: MountsTable;
  audit: AuditTable;
  backup_job_sessions: BackupJobSessionsTable;
  backup_task_sessions: BackupTaskSessionsTable;
  vm_claims: VmClaimsTable;
  leases: LeasesTable;
  logon_failures: LogonFailuresTable;
  repository_catalogs: RepositoryCatalogsTable;
  repository_manifests: RepositoryManifestsTable;
  repository_packs: RepositoryPacksTable;
  repository_pack_refs: RepositoryPackRefsTable;
  permission_journals: PermissionJournalsTable;
  permission_journal_entries: PermissionJournalEntriesTable;
  meta: MetaTable;
}
