import type { Generated } from 'kysely';

// The tables of work in progress: tasks, restore sessions, FLR mounts, VM claims, named leases and PermissionsOnly
// journals. Database (schema.ts) names them and gives the column conventions.

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
