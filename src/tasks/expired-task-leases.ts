import type { BaseContext } from '../context.js';

/** The message of a task whose node stopped (or died) while it ran: the single-node rule, on every node. */
export const INTERRUPTED = 'Interrupted: the openem server stopped while this task was running';

/**
 * Tasks Running under a lease that ended before `cutoff` lost their node: one its handler resumes (marked so when
 * it was claimed) goes back to the queue for any node to run again from its payload; every other one is Finished
 * as failed (INTERRUPTED). Each is one conditional statement, so of nodes sweeping together each task is handled
 * once, whatever handlers the sweeping node has. Answers how many were failed and how many requeued.
 */
export async function recoverExpiredTasks(ctx: BaseContext, cutoff: number): Promise<{ failed: number; requeued: number }> {
  const db = ctx.store.db;
  const now = ctx.clock.now();
  const r = await db
    .updateTable('tasks')
    .set({ state: 'Queued', lease_expires_at: null, updated_at: now })
    .where('state', '=', 'Running')
    .where('lease_expires_at', '<', cutoff)
    .where('resume_after_lease_loss', '=', 1)
    .executeTakeFirst();
  const requeued = Number(r.numUpdatedRows);
  const f = await db
    .updateTable('tasks')
    .set({ state: 'Finished', success: 0, message: INTERRUPTED, lease_expires_at: null, updated_at: now })
    .where('state', '=', 'Running')
    .where('lease_expires_at', '<', cutoff)
    .executeTakeFirst();
  return { failed: Number(f.numUpdatedRows), requeued };
}
