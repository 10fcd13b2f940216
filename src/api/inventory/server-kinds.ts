import { hostname } from 'node:os';
import type { HierarchyRootInfo } from '../../platform/platform.js';
import { text } from '../wire/wire-node.js';
import { VERSION } from '../../version.js';
import type { ResourceKind } from './resource-kind.js';

export interface BackupServerItem {
  id: string;
  name: string;
}

/** This deployment as Enterprise Manager's one backup server (em-api.md §4 "/backupServers"). */
export const backupServerKind: ResourceKind<BackupServerItem> = {
  type: 'BackupServer',
  collection: '/backupServers',
  entityList: 'BackupServers',
  list: async (ctx) => [{ id: ctx.backupServerId, name: hostname() }],
  find: async (ctx, _p, id) => (id.toLowerCase() === ctx.backupServerId ? { id: ctx.backupServerId, name: hostname() } : undefined),
  id: (s) => s.id,
  name: (s) => s.name,
  refLinks: () => [],
  entity: (base) => ({
    links: [
      { rel: 'Down', type: 'JobReferenceList', href: `${base}/jobs` },
      { rel: 'Down', type: 'BackupReferenceList', href: `${base}/backups` },
      { rel: 'Down', type: 'RestorePointReferenceList', href: `${base}/restorePoints` },
      { rel: 'Down', type: 'VmRestorePointReferenceList', href: `${base}/vmRestorePoints` },
    ],
    children: [text('Description', 'openem backup server'), text('Port', 9392), text('Version', VERSION)],
  }),
  fields: (s) => ({ uid: `urn:veeam:BackupServer:${s.id}`, name: s.name }),
};

/** Hierarchy roots come from the platform (em-api.md §4 "/hierarchyRoots"). */
export const hierarchyRootKind: ResourceKind<HierarchyRootInfo> = {
  type: 'HierarchyRoot',
  collection: '/hierarchyRoots',
  entityList: 'HierarchyRoots',
  list: (ctx) => ctx.platform.hierarchyRoots(),
  find: async (ctx, _p, id) => (await ctx.platform.hierarchyRoots()).find((r) => r.id === id.toLowerCase()),
  id: (r) => r.id,
  name: (r) => r.name,
  refLinks: (base, _r, ctx) => [{ rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${ctx.backupServerId}`, name: hostname() }],
  entity: (base, r, ctx) => ({
    links: [{ rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${ctx.backupServerId}`, name: hostname() }],
    children: [text('HierarchyRootId', r.id), text('UniqueId', r.id), text('HostType', r.hostType)],
  }),
  fields: (r) => ({ uid: `urn:veeam:HierarchyRoot:${r.id}`, name: r.name, hosttype: r.hostType }),
};
