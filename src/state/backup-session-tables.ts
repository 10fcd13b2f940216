// The tables of backup job runs (EM's BackupJobSession) and their VMs (BackupTaskSession). Database (schema.ts)
// names them and gives the column conventions.

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
