import type { AppContext } from '../app-services.js';
import { registerRestorePoint } from './register-restore-point.js';

/**
 * The repository's manifests are the truth; the store mirrors them. On start (and after CLI retention) rows are
 * added for manifests a crash left unregistered and removed for manifests that are gone.
 */
export async function syncRestorePoints(ctx: AppContext): Promise<{ added: number; removed: number }> {
  const manifests = await ctx.repository.listManifests();
  const ids = new Set(manifests.map((m) => m.id));
  const rows = await ctx.store.db.selectFrom('vm_restore_points').select(['id', 'restore_point_id']).execute();
  const known = new Set(rows.map((r) => r.id));
  let added = 0;
  for (const m of manifests) {
    if (known.has(m.id)) continue;
    const manifest = await ctx.repository.readManifest(m.id);
    if (!manifest) continue;
    await registerRestorePoint(ctx, manifest);
    added++;
  }
  const gone = rows.filter((r) => !ids.has(r.id));
  for (const r of gone) {
    await ctx.store.db.deleteFrom('catalog_entries').where('vm_restore_point_id', '=', r.id).execute();
    await ctx.store.db.deleteFrom('catalog_volumes').where('vm_restore_point_id', '=', r.id).execute();
    await ctx.store.db.deleteFrom('vm_restore_points').where('id', '=', r.id).execute();
  }
  if (gone.length) {
    const live = new Set((await ctx.store.db.selectFrom('vm_restore_points').select('restore_point_id').execute()).map((r) => r.restore_point_id));
    for (const rp of new Set(gone.map((r) => r.restore_point_id))) if (!live.has(rp)) await ctx.store.db.deleteFrom('restore_points').where('id', '=', rp).execute();
  }
  return { added, removed: gone.length };
}
