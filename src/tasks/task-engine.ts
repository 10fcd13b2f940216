import type { BaseContext } from '../context.js';
import { notFound } from '../errors.js';
import { leftBehindBefore } from '../state/leftover-rows.js';
import type { TasksTable } from '../state/schema.js';
import type { TaskRecord, TaskRunContext, TaskSubmission, TaskWork } from './task-types.js';
import { WorkLifetimes } from './work-lifetimes.js';

const HEARTBEAT_MS = 5_000;
/** A Running task whose heartbeat is older than this belongs to a node that died. */
const STALE_MS = 30_000;

function toRecord(row: TasksTable & { seq: number }): TaskRecord {
  return {
    taskId: `task-${row.seq}`,
    seq: Number(row.seq),
    operation: row.operation,
    state: row.state as TaskRecord['state'],
    success: row.success === null ? undefined : row.success === 1,
    message: row.message ?? undefined,
    related: row.related_type && row.related_path ? { type: row.related_type, path: row.related_path, name: row.related_name ?? undefined } : undefined,
    accountId: row.account_id,
    kind: row.kind,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function parseTaskId(taskId: string): number | undefined {
  const m = /^task-(\d{1,15})$/.exec(taskId);
  return m ? Number(m[1]) : undefined;
}

/** Why a task's own work stops when its task is removed (DELETE /tasks/{ID}). */
export const TASK_REMOVED = 'the task was removed';

/** The abort reason of all running work when the server stops: work cut off by it may resume at the next start. */
export class ServerStopping extends Error {
  constructor() {
    super('server stopping');
    this.name = 'ServerStopping';
  }
}

/**
 * Durable tasks (pg-boss vocabulary: submit, heartbeat, complete, fail, remove, recover). Rows live in the
 * state store so tasks survive a restart; the work runs on the node that accepted it.
 */
export class TaskEngine {
  /** Tasks whose own work runs on this node (until it ends or finishes early). */
  private readonly running = new Map<number, AbortController>();
  /** What tasks started and what outlives them: restore sessions, job runs. */
  readonly lifetimes = new WorkLifetimes();
  private readonly done = new Set<Promise<unknown>>();
  private heartbeat?: NodeJS.Timeout;

  constructor(private readonly ctx: BaseContext) {}

  /** Fails whatever an unclean stop left Running, then starts this node's heartbeat. */
  async start(): Promise<number> {
    const now = this.ctx.clock.now();
    const r = await this.ctx.store.db
      .updateTable('tasks')
      .set({ state: 'Finished', success: 0, message: 'Interrupted: the openem server stopped while this task was running', updated_at: now })
      .where('state', '=', 'Running')
      .where('updated_at', '<', leftBehindBefore(this.ctx.store, now - STALE_MS))
      .executeTakeFirst();
    this.heartbeat = setInterval(() => void this.beat().catch((e) => this.ctx.log.warn({ err: e }, 'task heartbeat failed')), HEARTBEAT_MS);
    this.heartbeat.unref();
    return Number(r.numUpdatedRows);
  }

  private async beat(): Promise<void> {
    const seqs = [...this.running.keys()];
    if (seqs.length === 0) return;
    await this.ctx.store.db.updateTable('tasks').set({ updated_at: this.ctx.clock.now() }).where('seq', 'in', seqs).where('state', '=', 'Running').execute();
    // A task removed through another node reaches its work here: its row is gone.
    const present = new Set((await this.ctx.store.db.selectFrom('tasks').select('seq').where('seq', 'in', seqs).execute()).map((r) => Number(r.seq)));
    for (const seq of seqs) if (!present.has(seq)) this.running.get(seq)?.abort(new Error(TASK_REMOVED));
  }

  /** Records a Running task and starts its work in the background; answers at once (202 + Task). */
  async submit(sub: TaskSubmission, work: TaskWork): Promise<TaskRecord> {
    const now = this.ctx.clock.now();
    const row = await this.ctx.store.db
      .insertInto('tasks')
      .values({
        operation: sub.operation,
        state: 'Running',
        success: null,
        message: null,
        related_type: null,
        related_path: null,
        related_name: null,
        account_id: sub.accountId,
        kind: sub.kind,
        payload: JSON.stringify(sub.payload ?? {}),
        cancel_requested: 0,
        node_id: this.ctx.nodeId,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const record = toRecord(row as TasksTable & { seq: number });
    const controller = new AbortController();
    this.running.set(record.seq, controller);
    const p = this.run(record, work, controller).finally(() => {
      this.running.delete(record.seq);
      this.done.delete(p);
    });
    this.done.add(p);
    return record;
  }

  private async run(record: TaskRecord, work: TaskWork, controller: AbortController): Promise<void> {
    const db = this.ctx.store.db;
    let finished = false;
    const finish = async (success: boolean, message: string) => {
      if (finished) return;
      finished = true;
      await db.updateTable('tasks').set({ state: 'Finished', success: success ? 1 : 0, message, updated_at: this.ctx.clock.now() }).where('seq', '=', record.seq).execute();
    };
    const run: TaskRunContext = {
      taskId: record.taskId,
      signal: controller.signal,
      setRelated: async (rel) => {
        await db.updateTable('tasks').set({ related_type: rel.type, related_path: rel.path, related_name: rel.name ?? null, updated_at: this.ctx.clock.now() }).where('seq', '=', record.seq).execute();
      },
      finishEarly: async (message) => {
        // The task's own work is over; what goes on is no longer the task's to stop.
        this.running.delete(record.seq);
        await finish(true, message);
      },
    };
    try {
      await new Promise((r) => setImmediate(r));
      const outcome = await work(run);
      await finish(true, outcome.message);
    } catch (e) {
      const message = controller.signal.aborted ? 'Stopped: the task was cancelled' : e instanceof Error ? e.message : String(e);
      if (!(e instanceof Error && 'code' in e)) this.ctx.log.error({ err: e, task: record.taskId }, 'task failed');
      await finish(false, message).catch((err) => this.ctx.log.error({ err }, 'could not record task failure'));
    }
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const seq = parseTaskId(taskId);
    if (seq === undefined) return undefined;
    const row = await this.ctx.store.db.selectFrom('tasks').selectAll().where('seq', '=', seq).executeTakeFirst();
    return row ? toRecord(row as TasksTable & { seq: number }) : undefined;
  }

  async list(accountId?: string, limit = 1000): Promise<TaskRecord[]> {
    let q = this.ctx.store.db.selectFrom('tasks').selectAll();
    if (accountId) q = q.where('account_id', '=', accountId);
    const rows = await q.orderBy('seq', 'desc').limit(limit).execute();
    return rows.map((r) => toRecord(r as TasksTable & { seq: number }));
  }

  /**
   * DELETE /tasks/{ID} ("Removes a task having the specified ID", delete_task_id): the row goes. A task whose own
   * work still runs has that work stopped (here at once, on another node through its heartbeat); what a task
   * started and finished early for — a restore session, a job run — lives on (issue 9 §3).
   */
  async remove(taskId: string): Promise<void> {
    const seq = parseTaskId(taskId);
    if (seq === undefined) throw notFound(`Task ${taskId} was not found`);
    const r = await this.ctx.store.db.deleteFrom('tasks').where('seq', '=', seq).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound(`Task ${taskId} was not found`);
    this.running.get(seq)?.abort(new Error(TASK_REMOVED));
  }

  /** Aborts running work (tasks' own and what they started) and waits for it to record its end. */
  async stop(options: { abort: boolean } = { abort: true }): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (options.abort) {
      for (const c of this.running.values()) c.abort(new ServerStopping());
      this.lifetimes.stopAll(new ServerStopping());
    }
    await Promise.allSettled([...this.done]);
  }
}
