import type { BaseContext } from '../context.js';
import { notFound } from '../errors.js';
import { leftBehindBefore } from '../state/leftover-rows.js';
import { claimQueuedTask, type TaskRow } from '../state/task-claims.js';
import { recoverExpiredTasks } from './expired-task-leases.js';
import { parseTaskId, taskRecordOf } from './task-records.js';
import type { TaskHandler, TaskRecord, TaskRunContext, TaskSubmission, TaskWork } from './task-types.js';
import { WorkLifetimes } from './work-lifetimes.js';

/** How often a node renews the leases of the tasks it runs, and looks for tasks whose node died. */
const HEARTBEAT_MS = 5_000;
/** How long a task's lease lasts unless its node renews it: a Running task older than this lost its node. */
const LEASE_MS = 30_000;
/** How often a node with handlers looks for queued tasks it can run (besides right after an enqueue here). */
const POLL_MS = 1_000;

/** Why a task's own work stops when its task is removed (DELETE /tasks/{ID}). */
export const TASK_REMOVED = 'the task was removed';

/** The abort reason of all running work when the server stops: work cut off by it may resume at the next start. */
export class ServerStopping extends Error {
  constructor() {
    super('server stopping');
    this.name = 'ServerStopping';
  }
}

/** Why a task's work stops when another node found its lease expired (this node looked dead) and failed or requeued it. */
export class TaskLeaseLost extends Error {
  constructor(taskId: string) {
    super(`this openem node lost the lease of ${taskId}: another node found it expired`);
    this.name = 'TaskLeaseLost';
  }
}

export interface TaskEngineOptions {
  heartbeatMs?: number;
  leaseMs?: number;
  pollMs?: number;
}

/**
 * Durable tasks (pg-boss vocabulary: submit, enqueue, claim, heartbeat, complete, fail, expire, remove). Rows live
 * in the state store so tasks survive a restart. A task runs under its node's lease, renewed by the heartbeat:
 * `submit` runs work bound to this process at once under this node's lease; `enqueue` queues a task of a kind
 * with a handler, which any node that has the handler claims. A task whose lease ended lost its node: another
 * node fails it, or, for a handler that says so, runs it again (`recoverExpiredTasks`).
 */
export class TaskEngine {
  /** Tasks whose own work runs on this node (until it ends or finishes early). */
  private readonly running = new Map<number, AbortController>();
  /** What tasks started and what outlives them: restore sessions, job runs. */
  readonly lifetimes = new WorkLifetimes();
  private readonly handlers = new Map<string, TaskHandler>();
  private readonly done = new Set<Promise<unknown>>();
  private heartbeat?: NodeJS.Timeout;
  private poller?: NodeJS.Timeout;
  private started = false;
  private stopping = false;
  private polling?: Promise<void>;
  private readonly heartbeatMs: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly ctx: BaseContext,
    options: TaskEngineOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
    this.leaseMs = options.leaseMs ?? LEASE_MS;
    this.pollMs = options.pollMs ?? POLL_MS;
  }

  /** Lets this node run queued tasks of `kind` (register before `start`). */
  handle(kind: string, handler: TaskHandler): void {
    this.handlers.set(kind, handler);
  }

  /**
   * Fails (or, for resumable kinds, requeues) what an unclean stop left Running, then starts this node's
   * heartbeat and its claiming of queued tasks. Answers how many tasks were failed.
   */
  async start(): Promise<number> {
    const now = this.ctx.clock.now();
    const r = await recoverExpiredTasks(this.ctx, leftBehindBefore(this.ctx.store, now));
    this.started = true;
    this.ensureHeartbeat();
    if (this.handlers.size > 0) {
      this.poller = setInterval(() => this.poke(), this.pollMs);
      this.poller.unref();
      this.poke();
    }
    return r.failed;
  }

  private resumableKinds(): string[] {
    return [...this.handlers].filter(([, h]) => h.afterNodeLoss === 'resume').map(([k]) => k);
  }

  private ensureHeartbeat(): void {
    if (this.heartbeat || this.stopping) return;
    this.heartbeat = setInterval(() => void this.beat().catch((e) => this.ctx.log.warn({ err: e }, 'task heartbeat failed')), this.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Renews this node's leases, stops work whose task went, and (once started) recovers tasks whose node died. */
  private async beat(): Promise<void> {
    const db = this.ctx.store.db;
    const seqs = [...this.running.keys()];
    const now = this.ctx.clock.now();
    if (seqs.length > 0) {
      await db
        .updateTable('tasks')
        .set({ updated_at: now, lease_expires_at: now + this.leaseMs })
        .where('seq', 'in', seqs)
        .where('state', '=', 'Running')
        .where('node_id', '=', this.ctx.nodeId)
        .execute();
      const rows = new Map((await db.selectFrom('tasks').select(['seq', 'state', 'node_id']).where('seq', 'in', seqs).execute()).map((r) => [Number(r.seq), r]));
      for (const seq of seqs) {
        const row = rows.get(seq);
        // A task removed through another node reaches its work here: its row is gone.
        if (!row) this.running.get(seq)?.abort(new Error(TASK_REMOVED));
        else if (row.state !== 'Running' || row.node_id !== this.ctx.nodeId) this.running.get(seq)?.abort(new TaskLeaseLost(`task-${seq}`));
      }
    }
    if (this.started) {
      const r = await recoverExpiredTasks(this.ctx, now);
      if (r.failed || r.requeued) this.ctx.log.warn(r, 'recovered tasks whose node stopped renewing their lease');
      if (r.requeued) this.poke();
    }
  }

  /** Looks for queued tasks this node can run (one look at a time). */
  private poke(): void {
    if (!this.started || this.stopping || this.polling || this.handlers.size === 0) return;
    this.polling = this.claimAll()
      .catch((e) => this.ctx.log.warn({ err: e }, 'claiming queued tasks failed'))
      .finally(() => (this.polling = undefined));
  }

  private async claimAll(): Promise<void> {
    while (!this.stopping) {
      const now = this.ctx.clock.now();
      const row = await claimQueuedTask(this.ctx.store, {
        kinds: [...this.handlers.keys()],
        resumableKinds: this.resumableKinds(),
        nodeId: this.ctx.nodeId,
        now,
        leaseUntil: now + this.leaseMs,
      });
      if (!row) return;
      const handler = this.handlers.get(row.kind)!;
      const payload = JSON.parse(row.payload) as unknown;
      this.launch(taskRecordOf(row), (run) => handler.run(run, payload), handler);
    }
  }

  /** Records a Running task under this node's lease and starts its work in the background; answers at once (202 + Task). */
  async submit(sub: TaskSubmission, work: TaskWork): Promise<TaskRecord> {
    const row = await this.insert(sub, 'Running');
    const record = taskRecordOf(row);
    this.launch(record, work);
    return record;
  }

  /** Records a queued task of a kind some node has a handler for; the first node to claim it runs it. */
  async enqueue(sub: TaskSubmission): Promise<TaskRecord> {
    const record = taskRecordOf(await this.insert(sub, 'Queued'));
    this.poke();
    return record;
  }

  private async insert(sub: TaskSubmission, state: 'Running' | 'Queued'): Promise<TaskRow> {
    const now = this.ctx.clock.now();
    return this.ctx.store.db
      .insertInto('tasks')
      .values({
        operation: sub.operation,
        state,
        success: null,
        message: null,
        related_type: null,
        related_path: null,
        related_name: null,
        account_id: sub.accountId,
        kind: sub.kind,
        payload: JSON.stringify(sub.payload ?? {}),
        node_id: this.ctx.nodeId,
        lease_expires_at: state === 'Running' ? now + this.leaseMs : null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  private launch(record: TaskRecord, work: TaskWork, handler?: TaskHandler): void {
    const controller = new AbortController();
    this.running.set(record.seq, controller);
    this.ensureHeartbeat();
    const p = this.run(record, work, controller, handler).finally(() => {
      this.running.delete(record.seq);
      this.done.delete(p);
    });
    this.done.add(p);
  }

  private async run(record: TaskRecord, work: TaskWork, controller: AbortController, handler?: TaskHandler): Promise<void> {
    const db = this.ctx.store.db;
    const mine = () => db.updateTable('tasks').where('seq', '=', record.seq).where('state', '=', 'Running').where('node_id', '=', this.ctx.nodeId);
    let finished = false;
    const finish = async (success: boolean, message: string) => {
      if (finished) return;
      finished = true;
      this.running.delete(record.seq);
      // Only while this node holds the task: one that another node failed or requeued is no longer ours to end.
      await mine().set({ state: 'Finished', success: success ? 1 : 0, message, lease_expires_at: null, updated_at: this.ctx.clock.now() }).execute();
    };
    const run: TaskRunContext = {
      taskId: record.taskId,
      signal: controller.signal,
      setRelated: async (rel) => {
        // The product as JSON (related_type names its kind); related_name is left to rows written before.
        await db.updateTable('tasks').set({ related_type: rel.kind, related_path: JSON.stringify(rel), related_name: null, updated_at: this.ctx.clock.now() }).where('seq', '=', record.seq).execute();
      },
      finishEarly: async (message) => {
        // The task's own work is over; what goes on is no longer the task's to stop.
        await finish(true, message);
      },
    };
    try {
      await new Promise((r) => setImmediate(r));
      const outcome = await work(run);
      await finish(true, outcome.message);
    } catch (e) {
      if (controller.signal.reason instanceof TaskLeaseLost) {
        finished = true; // another node has already failed or requeued it
        this.ctx.log.error({ task: record.taskId }, 'stopped a task whose lease another node found expired');
        return;
      }
      if (handler?.afterNodeLoss === 'resume' && controller.signal.reason instanceof ServerStopping && !finished) {
        // Cut off by this node's stop: back to the queue, for this or another node to run again.
        finished = true;
        this.running.delete(record.seq);
        await mine()
          .set({ state: 'Queued', lease_expires_at: null, updated_at: this.ctx.clock.now() })
          .execute()
          .catch((err) => this.ctx.log.error({ err }, 'could not requeue a task cut off by the stop'));
        return;
      }
      const message = controller.signal.aborted ? 'Stopped: the task was cancelled' : e instanceof Error ? e.message : String(e);
      if (!(e instanceof Error && 'code' in e)) this.ctx.log.error({ err: e, task: record.taskId }, 'task failed');
      await finish(false, message).catch((err) => this.ctx.log.error({ err }, 'could not record task failure'));
    }
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const seq = parseTaskId(taskId);
    if (seq === undefined) return undefined;
    const row = await this.ctx.store.db.selectFrom('tasks').selectAll().where('seq', '=', seq).executeTakeFirst();
    return row ? taskRecordOf(row) : undefined;
  }

  async list(accountId?: string, limit = 1000): Promise<TaskRecord[]> {
    let q = this.ctx.store.db.selectFrom('tasks').selectAll();
    if (accountId) q = q.where('account_id', '=', accountId);
    const rows = await q.orderBy('seq', 'desc').limit(limit).execute();
    return rows.map(taskRecordOf);
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

  /**
   * Stops claiming, aborts running work (tasks' own and what they started) and waits for it to record its end.
   * Queued tasks stay queued for the other nodes.
   */
  async stop(options: { abort: boolean } = { abort: true }): Promise<void> {
    this.stopping = true;
    if (this.poller) clearInterval(this.poller);
    await this.polling;
    if (options.abort) {
      for (const c of this.running.values()) c.abort(new ServerStopping());
      this.lifetimes.stopAll(new ServerStopping());
    }
    await Promise.allSettled([...this.done]);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
