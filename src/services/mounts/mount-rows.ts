import type { Selectable } from 'kysely';
import type { BaseContext } from '../../context.js';
import type { MountsTable } from '../../state/schema.js';
import { leftBehindBefore } from '../../state/leftover-rows.js';
import { isUniqueViolation } from '../../state/store-errors.js';
import type { MountOsKind } from './mount-types.js';

export type MountRow = Selectable<MountsTable>;

/**
 * The `mounts` table records which node holds which mount, so numbers stay unique per restore point, the limit
 * counts every node, and every node can serve every mount (its row says what to open). The readers themselves
 * live in memory: a row outlives its process only by accident.
 */
export async function insertMountRow(
  ctx: BaseContext,
  row: { id: string; vmRestorePointId: string; osKind: MountOsKind; accountId: string; folder: string | null },
): Promise<number> {
  // Two mounts of one point racing for the same number: the unique constraint refuses one; it takes the next.
  for (let attempt = 0; ; attempt++) {
    const max = await ctx.store.db
      .selectFrom('mounts')
      .select((eb) => eb.fn.max('number').as('n'))
      .where('vm_restore_point_id', '=', row.vmRestorePointId)
      .executeTakeFirst();
    const number = Number(max?.n ?? 0) + 1;
    const now = ctx.clock.now();
    try {
      await ctx.store.db
        .insertInto('mounts')
        .values({
          id: row.id,
          vm_restore_point_id: row.vmRestorePointId,
          number,
          os_kind: row.osKind,
          account_id: row.accountId,
          node_id: ctx.nodeId,
          folder: row.folder,
          created_at: now,
          last_used_at: now,
        })
        .execute();
      return number;
    } catch (e) {
      if (!isUniqueViolation(e) || attempt >= 5) throw e;
    }
  }
}

export async function deleteMountRow(ctx: BaseContext, id: string): Promise<void> {
  await ctx.store.db.deleteFrom('mounts').where('id', '=', id).execute();
}

export async function touchMountRow(ctx: BaseContext, id: string, at: number): Promise<void> {
  await ctx.store.db.updateTable('mounts').set({ last_used_at: at }).where('id', '=', id).execute();
}

export async function setMountFolder(ctx: BaseContext, id: string, folder: string | null): Promise<void> {
  await ctx.store.db.updateTable('mounts').set({ folder }).where('id', '=', id).execute();
}

export async function countMountRows(ctx: BaseContext): Promise<number> {
  const r = await ctx.store.db.selectFrom('mounts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/**
 * On start: mounts whose readers died with their process are removed. With SQLite one server owns the store, so
 * every row is dead; on PostgreSQL other nodes' rows are dead once unused for longer than the idle limit (a live
 * node touches its rows on use and expires them itself). This node has no rows yet: node ids are fresh per
 * process, so a row of this node's previous run carries another id and is judged by its last use like any other.
 */
export async function removeDeadMountRows(ctx: BaseContext): Promise<number> {
  const r = await ctx.store.db
    .deleteFrom('mounts')
    .where('last_used_at', '<', leftBehindBefore(ctx.store, ctx.clock.now() - ctx.config.mountIdleSeconds * 1000))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function setMountSession(ctx: BaseContext, id: string, restoreSessionId: string): Promise<void> {
  await ctx.store.db.updateTable('mounts').set({ restore_session_id: restoreSessionId }).where('id', '=', id).execute();
}

export async function findMountRow(ctx: BaseContext, vmRestorePointId: string, number: number): Promise<MountRow | undefined> {
  return ctx.store.db.selectFrom('mounts').selectAll().where('vm_restore_point_id', '=', vmRestorePointId).where('number', '=', number).executeTakeFirst();
}

/** The numbers of the restore point's mounts and the accounts that made them. */
export async function mountNumbersOf(ctx: BaseContext, vmRestorePointId: string): Promise<{ number: number; accountId: string }[]> {
  const rows = await ctx.store.db.selectFrom('mounts').select(['number', 'account_id']).where('vm_restore_point_id', '=', vmRestorePointId).execute();
  return rows.map((r) => ({ number: Number(r.number), accountId: r.account_id }));
}

/** Last use of each of these mounts as the store has it (any node's reads touch it); a mount without a row is absent. */
export async function mountRowsUsedAt(ctx: BaseContext, ids: string[]): Promise<Map<string, number>> {
  const rows = await ctx.store.db.selectFrom('mounts').select(['id', 'last_used_at']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, Number(r.last_used_at)]));
}
