/**
 * A backup job run as Enterprise Manager shows it (backupsessions_id.md): State Starting | Working | Stopping |
 * Stopped; Result None while it runs, then Success | Warning | Failed.
 */
export interface BackupJobSessionRecord {
  id: string;
  jobId: string;
  jobName: string;
  jobType: 'Backup';
  state: 'Starting' | 'Working' | 'Stopping' | 'Stopped';
  result: 'None' | 'Success' | 'Warning' | 'Failed';
  progress: number;
  failureMessage?: string;
  /** The EM RestorePoint this run created, once a VM point is committed. */
  restorePointId?: string;
  stopRequested: boolean;
  createdAt: number;
  endAt?: number;
}

/** One VM of a run (backuptasksessions_id.md): State Pending | InProgress | Completed. */
export interface BackupTaskSessionRecord {
  id: string;
  jobSessionId: string;
  /** When the parent run started, for its name in links and query fields. */
  jobSessionCreatedAt: number;
  jobId: string;
  jobName: string;
  vmName: string;
  state: 'Pending' | 'InProgress' | 'Completed';
  result: 'None' | 'Success' | 'Warning' | 'Failed';
  reason: string;
  /** Provisioned size of the VM's disks. */
  totalSize: number;
  bytesRead: number;
  bytesStored: number;
  vmRestorePointId?: string;
  createdAt: number;
  endAt?: number;
}
