import { randomUUID } from 'node:crypto';
import type { BaseContext } from '../../context.js';

/**
 * This openem deployment is the one backup server Enterprise Manager lists (`/backupServers`). Its id is
 * made once and kept in the store, so every node of a PostgreSQL-shared deployment reports the same one.
 */
export async function backupServerId(ctx: BaseContext): Promise<string> {
  const row = await ctx.store.db.selectFrom('meta').select('value').where('key', '=', 'backup_server_id').executeTakeFirst();
  if (row) return row.value;
  const id = randomUUID();
  await ctx.store.db.insertInto('meta').values({ key: 'backup_server_id', value: id }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const again = await ctx.store.db.selectFrom('meta').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow();
  return again.value;
}
