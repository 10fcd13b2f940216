import type { AppContext } from '../app-services.js';
import type { RestorePointManifest } from '../../repository/repository.js';
import { indexGuestFiles } from './index-guest-files.js';

/**
 * Mirrors a committed manifest into the state store: catalog entries first, the restore point rows last, so
 * the API never shows a point whose index is half-written. Safe to repeat (start-up sync after a crash).
 */
export async function registerRestorePoint(ctx: AppContext, manifest: RestorePointManifest): Promise<void> {
  const index = await indexGuestFiles(ctx, manifest);
  const createdAt = Date.parse(manifest.createdAt);
  await ctx.store.db.transaction().execute(async (trx) => {
    await trx.insertInto('restore_points').values({ id: manifest.restorePointId, job_id: manifest.jobId, created_at: createdAt }).onConflict((oc) => oc.column('id').doNothing()).execute();
    await trx
      .insertInto('vm_restore_points')
      .values({
        id: manifest.id,
        restore_point_id: manifest.restorePointId,
        job_id: manifest.jobId,
        vm_id: manifest.vmId,
        vm_name: manifest.vmName,
        platform: manifest.vm.platform,
        hierarchy_root_id: manifest.vm.hierarchyRootId,
        created_at: createdAt,
        point_type: manifest.pointType,
        index_state: index.state,
        index_message: index.message,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  });
}
