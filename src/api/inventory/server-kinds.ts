import { hostname } from 'node:os';
import type { HierarchyRootInfo } from '../../platform/platform.js';
import { text } from '../wire/wire-node.js';
import type { ResourceKind } from './resource-kind.js';
import type { ApiContext } from '../api-context.js';
import type { Principal } from '../../services/auth/logon-sessions.js';
import { isAdmin } from '../../services/auth/access.js';
import { forbidden } from '../../errors.js';
import { visiblePoints } from './visible-points.js';

export interface BackupServerItem {
  id: string;
  name: string;
}

/**
 * The Veeam Backup & Replication build whose Enterprise Manager API openem serves (the 13.0.1 reference,
 * em13/): a BackupServer's `Version` in EM's build format (get_backupservers_id.md: `13.0.0.1420`), which
 * collectors look up in their tables of VBR builds (em-clients.md). openem's own version is in /api/openapi.json.
 */
export const EMULATED_VBR_BUILD = '13.0.1.1071';

const serverDown = (base: string, s: BackupServerItem) => ({
  jobs: { rel: 'Down', type: 'JobReferenceList', href: `${base}/backupServers/${s.id}/jobs` },
  managedServers: { rel: 'Down', type: 'ManagedServerReferenceList', href: `${base}/backupServers/${s.id}/managedServers` },
  repositories: { rel: 'Down', type: 'RepositoryReferenceList', href: `${base}/backupServers/${s.id}/repositories` },
  externalRepositories: { rel: 'Down', type: 'ExternalRepositoryReferenceList', href: `${base}/backupServers/${s.id}/externalRepositories` },
});

/** This deployment as Enterprise Manager's one backup server (em-api.md §4 "/backupServers"). */
export const backupServerKind: ResourceKind<BackupServerItem> = {
  type: 'BackupServer',
  collection: '/backupServers',
  entityList: 'BackupServers',
  list: async (ctx) => [{ id: ctx.backupServerId, name: hostname() }],
  find: async (ctx, _p, id) => (id.toLowerCase() === ctx.backupServerId ? { id: ctx.backupServerId, name: hostname() } : undefined),
  id: (s) => s.id,
  name: (s) => s.name,
  // resource_representations.md's reference: Down jobs, repositories, external repositories, (credentials,
  // passwords: not served,) Alternate, Down managed servers.
  refLinks: (base, s) => {
    const d = serverDown(base, s);
    return [d.jobs, d.repositories, d.externalRepositories, { rel: 'Alternate', type: 'BackupServer', href: `${base}/backupServers/${s.id}?format=Entity`, name: s.name }, d.managedServers];
  },
  // get_backupservers_id.md: Alternate, (Edit, Delete: not served,) Down jobs, managed servers, repositories, external repositories.
  entity: (base, s) => {
    const d = serverDown(base, s);
    return {
      links: [{ rel: 'Alternate', type: 'BackupServerReference', href: `${base}/backupServers/${s.id}`, name: s.name }, d.jobs, d.managedServers, d.repositories, d.externalRepositories],
      // WcfPort and VbrCertificateThumbprint belong to a VBR 12+ server's WCF channel, which openem has none of.
      children: [text('Description', 'openem backup server'), text('Port', 9392), text('Version', EMULATED_VBR_BUILD), text('WcfPort', undefined), text('VbrCertificateThumbprint', undefined)],
    };
  },
  fields: (s) => ({ uid: `urn:veeam:BackupServer:${s.id}`, name: s.name, description: 'openem backup server', port: 9392, version: EMULATED_VBR_BUILD }),
};

/**
 * Roots a Portal User or Restore Operator sees: those their scope names, those of their datastores, and those
 * holding a VM restore point in their scope (undefined: all of them).
 */
async function visibleRootIds(ctx: ApiContext, p: Principal): Promise<Set<string> | undefined> {
  const { scope } = p.account;
  if (isAdmin(p) || scope.all) return undefined;
  const ids = new Set(scope.roots.map((r) => r.toLowerCase()));
  if (scope.datastores.length > 0) for (const d of await ctx.platform.datastores()) if (scope.datastores.includes(d.id)) ids.add(d.hierarchyRootId);
  for (const r of await visiblePoints(ctx, p)) ids.add(r.hierarchyRootId);
  return ids;
}

/** Hierarchy roots come from the platform (em-api.md §4 "/hierarchyRoots"), filtered by restore scope (issue #6). */
export const hierarchyRootKind: ResourceKind<HierarchyRootInfo> = {
  type: 'HierarchyRoot',
  collection: '/hierarchyRoots',
  entityList: 'HierarchyRoots',
  list: async (ctx, p) => {
    const visible = await visibleRootIds(ctx, p);
    return (await ctx.platform.hierarchyRoots()).filter((r) => !visible || visible.has(r.id));
  },
  find: async (ctx, p, id) => {
    const root = (await ctx.platform.hierarchyRoots()).find((r) => r.id === id.toLowerCase());
    const visible = root && (await visibleRootIds(ctx, p));
    if (root && visible && !visible.has(root.id)) throw forbidden(`Hierarchy root ${root.name} is outside the restore scope of account ${p.account.name}`);
    return root;
  },
  id: (r) => r.id,
  name: (r) => r.name,
  refLinks: (base, _r, ctx) => [{ rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${ctx.backupServerId}`, name: hostname() }],
  entity: (base, r, ctx) => ({
    links: [{ rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${ctx.backupServerId}`, name: hostname() }],
    children: [text('HierarchyRootId', r.id), text('UniqueId', r.id), text('HostType', r.hostType)],
  }),
  fields: (r) => ({ uid: `urn:veeam:HierarchyRoot:${r.id}`, name: r.name, hosttype: r.hostType }),
};
