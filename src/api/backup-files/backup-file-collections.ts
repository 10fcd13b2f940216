import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { notFound } from '../../errors.js';
import { sendItems } from '../inventory/collections.js';
import { backupKind, restorePointKind } from '../inventory/backup-kinds.js';
import { vmRestorePointKind } from '../inventory/vm-restore-point-kind.js';
import { entityReferences } from '../inventory/resource-kind.js';
import { sendWire } from '../negotiate.js';
import { backupFileKind, listBackupFiles } from './backup-file-kind.js';
import { repositoryKind } from '../infrastructure/repository-kind.js';

/**
 * The links between backups, restore points and backup files (backupfiles_id.md, get_restorepoints_id.md,
 * get_backups_id.md) and the repository's Down lists (repositories_id.md).
 */
export function backupFileCollectionsPlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    const fileOf = async (request: import('fastify').FastifyRequest) => {
      const { id } = request.params as { id: string };
      const f = await backupFileKind.find(ctx, request.principal!, id);
      if (!f) throw notFound(`BackupFile ${id} was not found`);
      return f;
    };
    app.get('/api/backupFiles/:id/restorePoints', { schema: { summary: 'The restore point a backup file belongs to' } }, async (request, reply) => {
      const f = await fileOf(request);
      const rp = await restorePointKind.find(ctx, request.principal!, f.point.restorePointId);
      return sendItems(ctx, request, reply, restorePointKind, rp ? [rp] : []);
    });
    app.get('/api/backupFiles/:id/vmRestorePoints', { schema: { summary: 'The VM restore point a backup file holds' } }, async (request, reply) => {
      const f = await fileOf(request);
      return sendItems(ctx, request, reply, vmRestorePointKind, [f.point]);
    });
    app.get('/api/restorePoints/:id/backupFiles', { schema: { summary: 'Backup files of one restore point' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const rp = await restorePointKind.find(ctx, request.principal!, id);
      if (!rp) throw notFound(`RestorePoint ${id} was not found`);
      return sendItems(ctx, request, reply, backupFileKind, await listBackupFiles(ctx, request.principal!, { restorePointId: rp.id }));
    });
    app.get('/api/backups/:id/backupFiles', { schema: { summary: 'Backup files of one backup' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const backup = await backupKind.find(ctx, request.principal!, id);
      if (!backup) throw notFound(`Backup ${id} was not found`);
      return sendItems(ctx, request, reply, backupFileKind, await listBackupFiles(ctx, request.principal!, { jobId: backup.id }));
    });
    app.get('/api/repositories/:id/backups', { schema: { summary: 'Backups stored in a repository' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      if (!(await repositoryKind.find(ctx, request.principal!, id))) throw notFound(`Repository ${id} was not found`);
      return sendItems(ctx, request, reply, backupKind, await backupKind.list(ctx, request.principal!));
    });
    // openem keeps no replicas: the repository's replica list is empty, in EM's shape.
    app.get('/api/repositories/:id/replicas', { schema: { summary: 'Replicas whose metadata a repository holds (none in openem)' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      if (!(await repositoryKind.find(ctx, request.principal!, id))) throw notFound(`Repository ${id} was not found`);
      return sendWire(request, reply, 200, entityReferences([]));
    });
  };
}
