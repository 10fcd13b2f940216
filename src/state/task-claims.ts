import type { Selectable } from 'kysely';
import type { Store } from './open-store.js';
import type { TasksTable } from './schema.js';

export type TaskRow = Selectable<TasksTable>;

/**
 * Claims the oldest Queued task of one of `kinds` for `nodeId` until `leaseUntil`, in one statement, so that of
 * nodes racing for it exactly one gets it; undefined when there is none (or a racer took it: ask again). On
 * PostgreSQL the pick skips rows other nodes are claiming (`FOR UPDATE SKIP LOCKED`); a SQLite statement runs alone.
 * Tasks of `resumableKinds` are marked to be queued again, not failed, if this node's lease on them ends.
 */
export async function claimQueuedTask(
  store: Store,
  claim: { kinds: string[]; resumableKinds: string[]; nodeId: string; now: number; leaseUntil: number },
): Promise<TaskRow | undefined> {
  if (claim.kinds.length === 0) return undefined;
  const db = store.db;
  let oldest = db.selectFrom('tasks').select('seq').where('state', '=', 'Queued').where('kind', 'in', claim.kinds).orderBy('seq').limit(1);
  if (store.dialect === 'postgres') oldest = oldest.forUpdate().skipLocked();
  return db
    .updateTable('tasks')
    .set((eb) => ({
      state: 'Running',
      node_id: claim.nodeId,
      lease_expires_at: claim.leaseUntil,
      updated_at: claim.now,
      // What becomes of the task if this node is lost is its handler's word, recorded for whichever node sweeps.
      resume_after_lease_loss: claim.resumableKinds.length > 0 ? eb.case().when('kind', 'in', claim.resumableKinds).then(1).else(0).end() : 0,
    }))
    .where('seq', '=', oldest)
    .where('state', '=', 'Queued')
    .returningAll()
    .executeTakeFirst();
}
