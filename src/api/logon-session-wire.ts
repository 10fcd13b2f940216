import type { LogonSession } from '../services/auth/logon-sessions.js';
import { el, links, text, type Link, type WireElement } from './wire/wire-node.js';

/**
 * The logon session's links — the API's home page — exactly as logging_on.md's example lists them (Rel, Type,
 * Href, Name, in that order), keeping those openem serves: every collection it has, also those it answers with
 * EM's empty lists (failover plans, vApp points, replicas, WAN accelerators, external repositories), so a client
 * following every `Down` link never meets a 404. Left out: security settings, the backup server Create, and the
 * vCloud, agents, self-service and NAS service roots, which openem does not serve.
 */
const HOME_LINKS: { type: string; path: string; name?: string }[] = [
  { type: 'BackupServerReferenceList', path: 'backupServers' },
  { type: 'ManagedServerReferenceList', path: 'managedServers' },
  { type: 'JobReferenceList', path: 'jobs' },
  { type: 'FailoverPlanReferenceList', path: 'failoverPlans' },
  { type: 'HierarchyRootReferenceList', path: 'hierarchyRoots' },
  { type: 'RepositoryReferenceList', path: 'repositories' },
  { type: 'BackupReferenceList', path: 'backups' },
  { type: 'RestorePointReferenceList', path: 'restorePoints' },
  { type: 'VmRestorePointReferenceList', path: 'vmRestorePoints' },
  { type: 'VAppRestorePointReferenceList', path: 'vAppRestorePoints' },
  { type: 'ReplicaReferenceList', path: 'replicas' },
  { type: 'VmReplicaPointReferenceList', path: 'vmReplicaPoints' },
  { type: 'CatalogVmReferenceList', path: 'catalog/vms' },
  { type: 'BackupJobSessionReferenceList', path: 'backupSessions' },
  { type: 'RestoreSessionReferenceList', path: 'restoreSessions' },
  { type: 'ReplicaJobSessionReferenceList', path: 'replicaSessions' },
  { type: 'BackupTaskSessionReferenceList', path: 'backupTaskSessions' },
  { type: 'ReplicaTaskSessionReferenceList', path: 'replicaTaskSessions' },
  { type: 'WanAcceleratorReferenceList', path: 'wanAccelerators' },
  { type: 'BackupFileReferenceList', path: 'backupFiles' },
  { type: 'ExternalRepositoryReferenceList', path: 'externalRepositories' },
  { type: 'TaskList', path: 'tasks' },
  { type: 'QueryService', path: 'querySvc' },
  { type: 'LookupService', path: 'lookupSvc' },
  { type: 'Report', path: 'reports/summary', name: 'Summary' },
  { type: 'BackupServerList', path: 'backupServers?format=Entity' },
  { type: 'ManagedServerList', path: 'managedServers?format=Entity' },
  { type: 'JobList', path: 'jobs?format=Entity' },
  { type: 'FailoverPlanList', path: 'failoverPlans?format=Entity' },
  { type: 'HierarchyRootList', path: 'hierarchyRoots?format=Entity' },
  { type: 'RepositoryList', path: 'repositories?format=Entity' },
  { type: 'BackupList', path: 'backups?format=Entity' },
  { type: 'RestorePointList', path: 'restorePoints?format=Entity' },
  { type: 'VmRestorePointList', path: 'vmRestorePoints?format=Entity' },
  { type: 'VAppRestorePointList', path: 'vAppRestorePoints?format=Entity' },
  { type: 'ReplicaList', path: 'replicas?format=Entity' },
  { type: 'VmReplicaPointList', path: 'vmReplicaPoints?format=Entity' },
  { type: 'CatalogVmList', path: 'catalog/vms?format=Entity' },
  { type: 'BackupJobSessionList', path: 'backupSessions?format=Entity' },
  { type: 'RestoreSessionList', path: 'restoreSessions?format=Entity' },
  { type: 'ReplicaJobSessionList', path: 'replicaSessions?format=Entity' },
  { type: 'BackupTaskSessionList', path: 'backupTaskSessions?format=Entity' },
  { type: 'ReplicaTaskSessionList', path: 'replicaTaskSessions?format=Entity' },
  { type: 'WanAcceleratorList', path: 'wanAccelerators?format=Entity' },
  { type: 'BackupFileList', path: 'backupFiles?format=Entity' },
  { type: 'ExternalRepositoryList', path: 'externalRepositories?format=Entity' },
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
    ...HOME_LINKS.map((h) => ({ rel: 'Down', type: h.type, href: `${base}/${h.path}`, name: h.name })),
    // logging_on.md: the logoff link has no Type.
    { rel: 'Delete', href: self },
  ];
  return el('LogonSession', [['Type', 'LogonSession'], ['Href', self]], [links(l), text('UserName', s.userName), text('SessionId', sessionId)]);
}
