import type { Generated } from 'kysely';

/**
 * The state store's tables. Common subset of SQLite and PostgreSQL: TEXT ids, INTEGER epoch-ms times,
 * JSON as TEXT, booleans as 0/1 integers.
 */
export interface AccountsTable {
  id: string;
  name: string;
  password_hash: string;
  /** portal-admin | portal-user | restore-operator | '' (no role: cannot log on). */
  role: string;
  /** JSON RestoreScope. */
  scope: string;
  created_at: number;
  password_changed_at: number;
}

export interface LogonSessionsTable {
  id: string;
  /** SHA-256 of the token; the token itself is never stored. */
  token_hash: string;
  account_id: string;
  user_name: string;
  created_at: number;
  last_seen_at: number;
  address: string;
}

export interface JobsTable {
  id: string;
  name: string;
  /** JSON array of VM names. */
  vm_names: string;
  created_at: number;
}

export interface RestorePointsTable {
  id: string;
  job_id: string;
  created_at: number;
}

export interface VmRestorePointsTable {
  id: string;
  restore_point_id: string;
  job_id: string;
  vm_id: string;
  vm_name: string;
  platform: string;
  hierarchy_root_id: string;
  created_at: number;
  point_type: string;
  /** Indexed | NotIndexed */
  index_state: string;
  index_message: string;
}

export interface CatalogEntriesTable {
  vm_restore_point_id: string;
  /** The volume's id (GuestVolume.id); '' for rows indexed before volumes, all on the volume `/` names. */
  volume: string;
  /** The path inside that volume. */
  path: string;
  parent_path: string;
  name: string;
  type: string;
  size: number;
  mtime: number;
}

/** The volumes of a restore point whose files the catalog holds. */
export interface CatalogVolumesTable {
  vm_restore_point_id: string;
  volume: string;
  disk_name: string;
  partition_index: number | null;
  fs_kind: string;
  /** The Windows drive letter (`C`) the volume's paths are named with; null for the volume `/` names. */
  drive_letter: string | null;
}

export interface TasksTable {
  seq: Generated<number>;
  operation: string;
  /** Queued (waiting for a node to claim it; clients see Running) | Running | Finished */
  state: string;
  /** null while running, 0/1 when finished. */
  success: number | null;
  message: string | null;
  related_type: string | null;
  related_path: string | null;
  related_name: string | null;
  account_id: string;
  /** What the work is (restore-vm, mount, restore-file, backup). */
  kind: string;
  payload: string;
  /** The node that accepted the task, then the node that claimed it and runs it. */
  node_id: string;
  /** While Running: when the lease of `node_id` ends unless its heartbeat renews it (then another node fails or resumes the task). */
  lease_expires_at: number | null;
  /** 1 when the claiming node's handler runs the task again after its node is lost (`TaskHandler.afterNodeLoss`); else it is failed. */
  resume_after_lease_loss: Generated<number>;
  created_at: number;
  updated_at: number;
}

export interface RestoreSessionsTable {
  id: string;
  name: string;
  job_type: string;
  vm_display_name: string;
  vm_restore_point_id: string;
  account_id: string;
  /** Starting | Working | Stopping | Stopped */
  state: string;
  /** None | Success | Warning | Failed */
  result: string;
  progress: number;
  failure_message: string | null;
  /** JSON array of {at, text}. */
  log: string;
  restored_obj_ref: string | null;
  node_id: string;
  heartbeat_at: number;
  created_at: number;
  end_at: number | null;
}

export interface MountsTable {
  id: string;
  vm_restore_point_id: string;
  number: number;
  os_kind: string;
  account_id: string;
  node_id: string;
  folder: string | null;
  created_at: number;
  last_used_at: number;
  /** The FileLevelRestore session of the mount, so that any node serving it logs to it. */
  restore_session_id: string | null;
}

export interface AuditTable {
  seq: Generated<number>;
  at: number;
  user_name: string;
  address: string;
  action: string;
  target: string;
  result: string;
  detail: string;
}

/** One run of a backup job (EM's BackupJobSession, backupsessions_id.md). */
export interface BackupJobSessionsTable {
  id: string;
  /** `<job name>@yyyy-MM-dd HH:mm:ss` */
  name: string;
  job_id: string;
  job_name: string;
  /** Backup */
  job_type: string;
  /** Starting | Working | Stopping | Stopped */
  state: string;
  /** None | Success | Warning | Failed */
  result: string;
  progress: number;
  failure_message: string | null;
  /** The EM RestorePoint the run created (null until one VM point is committed). */
  restore_point_id: string | null;
  /** 1 once `POST /backupSessions/{ID}?action=stop` asked the run to stop; the running process polls it. */
  stop_requested: number;
  /** Process that runs the backup (server node or CLI), refreshed while it runs. */
  owner: string;
  heartbeat_at: number;
  created_at: number;
  end_at: number | null;
}

/** One VM of a backup job run (EM's BackupTaskSession, backuptasksessions_id.md). */
export interface BackupTaskSessionsTable {
  id: string;
  job_session_id: string;
  /** `<vm>@yyyy-MM-dd HH:mm:ss` */
  name: string;
  vm_name: string;
  /** Pending | InProgress | Completed */
  state: string;
  /** None | Success | Warning | Failed */
  result: string;
  reason: string;
  /** Provisioned size of the VM's disks (EM's TotalSize). */
  total_size: number;
  /** Bytes read from the VM's disks. */
  bytes_read: number;
  /** Compressed bytes of new blocks written to the repository. */
  bytes_stored: number;
  /** The VM restore point this task committed, once it has. */
  vm_restore_point_id: string | null;
  position: number;
  created_at: number;
  end_at: number | null;
}

/** One row per VM that a backup or a restore is working on (issue 9 §4); the vm_id key is the exclusion. */
export interface VmClaimsTable {
  vm_id: string;
  vm_name: string;
  /** backup | vm-restore | quick-rollback | guest-file-restore */
  kind: string;
  /** What holds the VM, for the refusal: `restore session <id>`, `backup job "<name>"`. */
  holder: string;
  node_id: string;
  pid: number;
  host: string;
  claimed_at: number;
  heartbeat_at: number;
}

/** Named leases (`tasks/named-leases.ts`): the repository's gc and backup exclusions, across processes and nodes. */
export interface LeasesTable {
  name: string;
  /** What holds it, for the refusal. */
  holder: string;
  node_id: string;
  pid: number;
  host: string;
  acquired_at: number;
  heartbeat_at: number;
}

/**
 * The repository catalog (`tasks/repository-catalog.ts`): which manifests are current and which packs exist and
 * are referenced, per repository (`repository`: its config id, or its location), so that nothing decides what is
 * live from a blob store listing. A repository's row in `repository_catalogs` says its objects were adopted.
 */
export interface RepositoryCatalogsTable {
  repository: string;
  adopted_at: number;
}

export interface RepositoryManifestsTable {
  repository: string;
  id: string;
  restore_point_id: string;
  job_id: string;
  vm_id: string;
  vm_name: string;
  /** ISO-8601, as in the manifest. */
  created_at: string;
  point_type: string;
}

export interface RepositoryPacksTable {
  repository: string;
  pack_id: string;
  added_at: number;
}

/** Manifest → every pack holding one of its blocks. */
export interface RepositoryPackRefsTable {
  repository: string;
  manifest_id: string;
  pack_id: string;
}

/** Failed logons per client address (`a:…`) and per account name (`u:…`), counted by every node (`logon-throttle.ts`). */
export interface LogonFailuresTable {
  key: string;
  failures: number;
  first_at: number;
  locked_until: number;
}

/**
 * A PermissionsOnly restore's journal (permissions-journal.ts), one per restore session: which live volume, and
 * `complete` = 1 once every descriptor it will replace is recorded (before the first is set; 0: nothing was set).
 */
export interface PermissionJournalsTable {
  session_id: string;
  vm_id: string;
  vm_name: string;
  disk_name: string;
  partition_index: number | null;
  complete: number;
  entries: number;
  created_at: number;
}

/** One descriptor a PermissionsOnly restore replaces: the live item's name components (JSON of base64) and its old descriptor (base64). */
export interface PermissionJournalEntriesTable {
  session_id: string;
  seq: number;
  path: string;
  old: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

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
