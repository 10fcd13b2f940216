import { sql } from 'kysely';
import type { BaseContext } from '../../context.js';

export interface CatalogHit {
  vmRestorePointId: string;
  /** The path inside its volume. */
  path: string;
  /** The guest path that names it: `C:/Users/…` on a volume with a drive letter, else `path`. */
  guestPath: string;
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
    .selectFrom('catalog_entries as e')
    .leftJoin('catalog_volumes as v', (j) => j.onRef('v.vm_restore_point_id', '=', 'e.vm_restore_point_id').onRef('v.volume', '=', 'e.volume'))
    .select(['e.vm_restore_point_id', 'e.path', 'e.name', 'e.type', 'e.size', 'e.mtime', 'v.drive_letter'])
    .where('e.vm_restore_point_id', 'in', pointIds)
    // The backslash escapes above need an ESCAPE clause: SQLite has no default escape character (PostgreSQL's
    // is the backslash), so without it `_` and `%` in a search would be wildcards on SQLite only.
    .where(sql<boolean>`lower(${sql.ref('e.name')}) like ${like} escape '\\'`)
    .orderBy('e.path')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    vmRestorePointId: r.vm_restore_point_id,
    path: r.path,
    guestPath: r.drive_letter ? `${r.drive_letter}:${r.path}` : r.path,
    name: r.name,
    type: r.type,
    size: Number(r.size),
    mtime: Number(r.mtime),
  }));
}
