import { hostname } from 'node:os';
import { text } from '../wire/wire-node.js';
import type { ResourceKind } from '../inventory/resource-kind.js';
import type { ApiContext } from '../api-context.js';
import { derivedId } from '../../services/monitoring/derived-ids.js';
import { repositoryUsage, type RepositoryUsage } from '../../services/monitoring/repository-usage.js';

export interface RepositoryItem extends RepositoryUsage {
  id: string;
  name: string;
}

export const REPOSITORY_NAME = 'openem repository';

export const repositoryIdOf = (ctx: ApiContext) => derivedId(ctx.backupServerId, 'repository');

/** The deployment's one repository, with its file system's real capacity and free space (statfs). */
export async function theRepository(ctx: ApiContext): Promise<RepositoryItem> {
  return { id: repositoryIdOf(ctx), name: REPOSITORY_NAME, ...(await repositoryUsage(ctx.repository.location)) };
}

/**
 * `/repositories` (repositories_id.md example): Links Up backup server, Alternate, Down backups, Down replicas;
 * then Capacity, FreeSpace, Kind. openem's repository is a folder on the Linux host: `LinuxLocal`.
 */
export const repositoryKind: ResourceKind<RepositoryItem> = {
  type: 'Repository',
  collection: '/repositories',
  entityList: 'Repositories',
  list: async (ctx) => [await theRepository(ctx)],
  find: async (ctx, _p, id) => (id.toLowerCase() === repositoryIdOf(ctx) ? theRepository(ctx) : undefined),
  id: (r) => r.id,
  name: (r) => r.name,
  refLinks: (base, _r, ctx) => [{ rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${ctx.backupServerId}`, name: hostname() }],
  entity: (base, r, ctx) => ({
    links: [
      { rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${ctx.backupServerId}`, name: hostname() },
      { rel: 'Alternate', type: 'RepositoryReference', href: `${base}/repositories/${r.id}`, name: r.name },
      { rel: 'Down', type: 'BackupReferenceList', href: `${base}/repositories/${r.id}/backups` },
      { rel: 'Down', type: 'ReplicaReferenceList', href: `${base}/repositories/${r.id}/replicas` },
    ],
    children: [text('Capacity', r.capacity), text('FreeSpace', r.freeSpace), text('Kind', 'LinuxLocal')],
  }),
  // get_query_repository.md
  fields: (r) => ({ uid: `urn:veeam:Repository:${r.id}`, name: r.name, freespace: r.freeSpace, capacity: r.capacity, backupserveruid: undefined, backupservername: hostname() }),
};
