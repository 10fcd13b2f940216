import type { PresentedPlatform } from '../platform/platform.js';

/** A VM by what identifies it on its platform: neutral data, which the API writes as a HierarchyObjRef. */
export interface RestoredVm {
  platform: PresentedPlatform;
  hierarchyRootId: string;
  vmId: string;
}

/** Enterprise Manager's task (em-api.md "tasks"): `task-N`, Running then Finished, with a Result. */
export interface TaskRecord {
  /** `task-N` */
  taskId: string;
  seq: number;
  operation: string;
  state: 'Running' | 'Finished';
  success?: boolean;
  message?: string;
  /** What the task produced: a restore session, a mount, a file to download (the API writes the link to it). */
  related?: TaskProduct;
  accountId: string;
  kind: string;
  createdAt: number;
  updatedAt: number;
}

/**
 * What a task's work produced, as data: ids, kinds and guest paths, never URLs or EM's names (issue #15: the wire
 * stays in api/, task-wire.ts writes the link).
 */
export type TaskProduct =
  | { kind: 'restoreSession'; sessionId: string; jobType: 'RestoreVm' | 'FileLevelRestore' }
  | { kind: 'mount'; vmRestorePointId: string; mountNumber: number }
  | { kind: 'download'; vmRestorePointId: string; mountNumber: number; guestPath: string }
  /** A catalog point's guest files, made browsable (`?action=browse`): the API links the point's guestfs root. */
  | { kind: 'catalogGuestFs'; vmName: string; vmRestorePointId: string }
  /** A task row written before products were stored as data: the link as it was written then (Href relative to `/api`). */
  | { kind: 'link'; type: string; path: string; name?: string };

/** What a task's work gets while it runs. */
export interface TaskRunContext {
  taskId: string;
  /** The task's own work: aborted when the task is removed before it finished, or the server stops. */
  signal: AbortSignal;
  /** Points the task at what it produced; visible to clients at once. */
  setRelated(related: TaskProduct): Promise<void>;
  /**
   * Marks the task Finished with success while the work goes on (EM's restore task finishes once the restore
   * session has started, seed 003). What goes on runs under its own lifetime (`TaskEngine.lifetimes`):
   * removing the task from now on leaves it alone.
   */
  finishEarly(message: string): Promise<void>;
}

export interface TaskOutcome {
  message: string;
}

export type TaskWork = (run: TaskRunContext) => Promise<TaskOutcome>;

/**
 * Runs queued tasks of one kind on whichever node claims them (`TaskEngine.handle`, `enqueue`): the work is
 * rebuilt from the task's stored payload, so it needs nothing of the node that accepted the task.
 */
export interface TaskHandler {
  run(run: TaskRunContext, payload: unknown): Promise<TaskOutcome>;
  /**
   * A task whose node died (its lease expired) or stopped while running it: `fail` (the default, the single-node
   * rule: Finished, failed, "Interrupted") or `resume` (queued again; a node runs it again from its payload, so the
   * work must be safe to repeat).
   */
  afterNodeLoss?: 'fail' | 'resume';
}

export interface TaskSubmission {
  operation: string;
  /** restore-vm | mount | restore-file | backup | … */
  kind: string;
  accountId: string;
  /** Stored for the record and for recovery messages. */
  payload?: unknown;
}

/** `JobType` RestoreVm | FileLevelRestore; State Starting | Working | Stopping | Stopped; Result None | Success | Warning | Failed. */
export interface RestoreSessionRecord {
  id: string;
  jobType: 'RestoreVm' | 'FileLevelRestore';
  vmDisplayName: string;
  vmRestorePointId: string;
  accountId: string;
  state: 'Starting' | 'Working' | 'Stopping' | 'Stopped';
  result: 'None' | 'Success' | 'Warning' | 'Failed';
  progress: number;
  failureMessage?: string;
  log: { at: number; text: string }[];
  /** The VM a restore to a new VM made (the API renders it as the session's RestoredObjRef). */
  restoredVm?: RestoredVm;
  createdAt: number;
  endAt?: number;
}
