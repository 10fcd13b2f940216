import type { TaskRow } from '../state/task-claims.js';
import type { TaskProduct, TaskRecord } from './task-types.js';

/** The stored product: JSON, or (rows written before) the link's type, path and name. */
function relatedOf(row: TaskRow): TaskProduct | undefined {
  if (!row.related_type || !row.related_path) return undefined;
  if (row.related_path.startsWith('{')) return JSON.parse(row.related_path) as TaskProduct;
  return { kind: 'link', type: row.related_type, path: row.related_path, name: row.related_name ?? undefined };
}

/** A task as clients see it, from its stored row. */
export function taskRecordOf(row: TaskRow): TaskRecord {
  return {
    taskId: `task-${row.seq}`,
    seq: Number(row.seq),
    operation: row.operation,
    // A queued task is Running to clients: Enterprise Manager's tasks are Running until they finish.
    state: row.state === 'Finished' ? 'Finished' : 'Running',
    success: row.success === null ? undefined : row.success === 1,
    message: row.message ?? undefined,
    related: relatedOf(row),
    accountId: row.account_id,
    kind: row.kind,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** The row number in a task id (`task-<seq>`), or undefined when it is not one. */
export function parseTaskId(taskId: string): number | undefined {
  const m = /^task-(\d{1,15})$/.exec(taskId);
  return m ? Number(m[1]) : undefined;
}
