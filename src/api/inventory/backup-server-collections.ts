import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { notFound } from '../../errors.js';
import { sendItems } from './collections.js';
import { jobKind } from './backup-kinds.js';
import { backupServerKind } from './server-kinds.js';
import { repositoryKind } from '../infrastructure/repository-kind.js';
import { managedServerKind } from '../infrastructure/managed-server-kind.js';
import { ABSENT_COLLECTIONS, absentKind } from '../absent/absent-kinds.js';
import type { ResourceKind } from './resource-kind.js';

/**
 * The backup server's own collections (get_backupservers_id.md Down links): its jobs, managed servers, repositories
 * and external repositories. openem is its one backup server, so each is the whole collection.
 */
export function backupServerCollectionsPlugin(ctx: ApiContext) {
  const externalCollection = ABSENT_COLLECTIONS.find((k) => k.collection === '/externalRepositories');
  if (!externalCollection) throw new Error('the external repositories collection is missing');
  const external = absentKind(externalCollection);
  const kinds: [string, ResourceKind<any>][] = [['jobs', jobKind], ['managedServers', managedServerKind], ['repositories', repositoryKind], ['externalRepositories', external]];
  return async function (app: FastifyInstance) {
    for (const [path, kind] of kinds) {
      app.get(`/api/backupServers/:id/${path}`, { schema: { summary: `The backup server's ${path}` } }, async (request: FastifyRequest, reply) => {
        const { id } = request.params as { id: string };
        if (!(await backupServerKind.find(ctx, request.principal!, id))) throw notFound(`BackupServer ${id} was not found`);
        return sendItems(ctx, request, reply, kind, await kind.list(ctx, request.principal!));
      });
    }
  };
}
