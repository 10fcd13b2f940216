import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { notFound } from '../../errors.js';
import { sendItems } from './collections.js';
import { restorePointKind, backupKind } from './backup-kinds.js';
import { vmRestorePointKind } from './vm-restore-point-kind.js';
import { visiblePoints } from './visible-points.js';

/** `/restorePoints/{ID}/vmRestorePoints` and `/backups/{ID}/restorePoints` (em-api.md §4). */
export function nestedCollectionsPlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    app.get('/api/restorePoints/:id/vmRestorePoints', { schema: { summary: 'VM restore points of one restore point' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const rp = await restorePointKind.find(ctx, request.principal!, id);
      if (!rp) throw notFound(`RestorePoint ${id} was not found`);
      return sendItems(ctx, request, reply, vmRestorePointKind, await visiblePoints(ctx, request.principal!, { restorePointId: rp.id }));
    });
    app.get('/api/backups/:id/restorePoints', { schema: { summary: 'Restore points of one backup' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const backup = await backupKind.find(ctx, request.principal!, id);
      if (!backup) throw notFound(`Backup ${id} was not found`);
      const points = (await restorePointKind.list(ctx, request.principal!)).filter((r) => r.jobId === backup.id);
      return sendItems(ctx, request, reply, restorePointKind, points);
    });
  };
}
