import type { BaseContext } from '../../context.js';

export interface CatalogHit {
  vmRestorePointId: string;
  path: string;
  name: string;
  type: string;
  size: number;
  mtime: number;
}

/** Guest files whose name matches `pattern` (`*` and `?` wildcards, case-insensitive) in the given points. */
export async function searchCatalog(ctx: BaseContext, pattern: string, pointIds: string[], limit: number): Promise<CatalogHit[]> {
  if (pointIds.length === 0) return [];
  const like = pattern.replace(/[\\%_]/g, (c) => '\\' + c).replace(/\*/g, '%').replace(/\?/g, '_').toLowerCase();
  const rows = await ctx.store.db
    .selectFrom('catalog_entries')
    .selectAll()
    .where('vm_restore_point_id', 'in', pointIds)
    .where((eb) => eb(eb.fn('lower', ['name']), 'like', like))
    .orderBy('path')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ vmRestorePointId: r.vm_restore_point_id, path: r.path, name: r.name, type: r.type, size: Number(r.size), mtime: Number(r.mtime) }));
}
