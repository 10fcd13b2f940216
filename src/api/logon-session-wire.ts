import type { LogonSession } from '../services/auth/logon-sessions.js';
import { el, links, text, type Link, type WireElement } from './wire/wire-node.js';

/**
 * The collections a logon session points to — the API's home page, in the order Enterprise Manager lists them
 * (em-api.md §1, from the logon session page): every collection openem serves, also those it has nothing in
 * (failover plans, vApp points, replicas: EM's empty lists), so a client following every `Down` link never
 * meets a 404. The service links carry the Type of the resource they lead to (querysvc.md `QueryService`,
 * lookup_service.md `LookupService`). Tasks, which EM lists under no session link, come last.
 */
const HOME_LINKS: [string, string][] = [
  ['BackupServerReferenceList', 'backupServers'],
  ['ManagedServerReferenceList', 'managedServers'],
  ['JobReferenceList', 'jobs'],
  ['FailoverPlanReferenceList', 'failoverPlans'],
  ['HierarchyRootReferenceList', 'hierarchyRoots'],
  ['RepositoryReferenceList', 'repositories'],
  ['BackupReferenceList', 'backups'],
  ['RestorePointReferenceList', 'restorePoints'],
  ['VmRestorePointReferenceList', 'vmRestorePoints'],
  ['VAppRestorePointReferenceList', 'vAppRestorePoints'],
  ['ReplicaReferenceList', 'replicas'],
  ['VmReplicaPointReferenceList', 'vmReplicaPoints'],
  ['BackupJobSessionReferenceList', 'backupSessions'],
  ['BackupTaskSessionReferenceList', 'backupTaskSessions'],
  ['ReplicaJobSessionReferenceList', 'replicaSessions'],
  ['ReplicaTaskSessionReferenceList', 'replicaTaskSessions'],
  ['BackupFileReferenceList', 'backupFiles'],
  ['QueryService', 'querySvc'],
  ['LookupService', 'lookupSvc'],
  ['RestoreSessionEntityList', 'restoreSessions'],
  ['CatalogVmReferenceList', 'catalog/vms'],
  ['SummaryReport', 'reports/summary'],
  ['TaskReferenceList', 'tasks'],
];

/**
 * `sessionId` is the session's secret `SessionId` GUID, known only to its own caller (from the logon or from
 * the token it sends). Other sessions an administrator lists show their public id there instead, so that the
 * list never hands out another session's token.
 */
export function logonSessionElement(base: string, s: LogonSession, sessionId: string = s.id): WireElement {
  const self = `${base}/logonSessions/${s.id}`;
  const l: Link[] = [
    { rel: 'Up', type: 'EnterpriseManager', href: `${base}/` },
    ...HOME_LINKS.map(([type, path]) => ({ rel: 'Down', type, href: `${base}/${path}` })),
    { rel: 'Delete', type: 'LogonSession', href: self },
  ];
  return el('LogonSession', [['Href', self], ['Type', 'LogonSession']], [links(l), text('UserName', s.userName), text('SessionId', sessionId)]);
}
