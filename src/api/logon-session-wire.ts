import type { LogonSession } from '../services/auth/logon-sessions.js';
import { el, links, text, type Link, type WireElement } from './wire/wire-node.js';

/**
 * The collections a logon session points to — the API's home page (em-api.md §1). Only collections openem
 * serves are linked, so a client following every `Down` link never meets a 404.
 */
const HOME_LINKS: [string, string][] = [
  ['BackupServerReferenceList', 'backupServers'],
  ['JobReferenceList', 'jobs'],
  ['HierarchyRootReferenceList', 'hierarchyRoots'],
  ['BackupReferenceList', 'backups'],
  ['RestorePointReferenceList', 'restorePoints'],
  ['VmRestorePointReferenceList', 'vmRestorePoints'],
  ['RestoreSessionEntityList', 'restoreSessions'],
  ['CatalogVmReferenceList', 'catalog/vms'],
  ['TaskReferenceList', 'tasks'],
  ['QuerySvc', 'query'],
  ['LookupService', 'lookupSvc'],
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
