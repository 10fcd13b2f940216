import { hostname } from 'node:os';
import { text } from '../wire/wire-node.js';
import type { ResourceKind } from '../inventory/resource-kind.js';
import type { ApiContext } from '../api-context.js';
import { derivedId } from '../../services/monitoring/derived-ids.js';

export interface ManagedServerItem {
  id: string;
  name: string;
}

const managedServerIdOf = (ctx: ApiContext) => derivedId(ctx.backupServerId, 'managed-server');
const theHost = (ctx: ApiContext): ManagedServerItem => ({ id: managedServerIdOf(ctx), name: hostname() });

/**
 * `/managedServers` (managedservers_id.md example): the openem host itself — it runs the backup server, holds the
 * repository and the local platform's VMs — as a `Linux` managed server. Links Up BackupServer, Alternate; the
 * example's `Related HierarchyRoot` is left out: the host is not one of the platform's hierarchy roots.
 */
export const managedServerKind: ResourceKind<ManagedServerItem> = {
  type: 'ManagedServer',
  collection: '/managedServers',
  entityList: 'ManagedServers',
  list: async (ctx) => [theHost(ctx)],
  find: async (ctx, _p, id) => (id.toLowerCase() === managedServerIdOf(ctx) ? theHost(ctx) : undefined),
  id: (s) => s.id,
  name: (s) => s.name,
  refLinks: (base, _s, ctx) => [{ rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${ctx.backupServerId}`, name: hostname() }],
  entity: (base, s, ctx) => ({
    links: [
      { rel: 'Up', type: 'BackupServer', href: `${base}/backupServers/${ctx.backupServerId}?format=Entity`, name: hostname() },
      { rel: 'Alternate', type: 'ManagedServerReference', href: `${base}/managedServers/${s.id}`, name: s.name },
    ],
    children: [text('Description', 'openem host: backup server, repository and local platform'), text('ManagedServerType', 'Linux')],
  }),
  // get_query_managedserver.md
  fields: (s) => ({ uid: `urn:veeam:ManagedServer:${s.id}`, name: s.name, description: 'openem host: backup server, repository and local platform', managedservertype: 'Linux' }),
};
