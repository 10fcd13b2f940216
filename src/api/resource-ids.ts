import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from '../errors.js';
import { ABSENT_COLLECTIONS } from './absent/absent-kinds.js';

/**
 * Collections whose `{ID}` is a GUID, by URL segment, with the type Enterprise Manager names in its refusal.
 * Tasks (`task-1`), mounts (`1`) and catalog VM names are not GUIDs and are not listed.
 */
const GUID_COLLECTIONS: Record<string, string> = {
  backupServers: 'BackupServer',
  hierarchyRoots: 'HierarchyRoot',
  jobs: 'Job',
  backups: 'Backup',
  restorePoints: 'RestorePoint',
  vmRestorePoints: 'VmRestorePoint',
  restoreSessions: 'RestoreSession',
  logonSessions: 'LogonSession',
  repositories: 'Repository',
  backupFiles: 'BackupFile',
  managedServers: 'ManagedServer',
  backupSessions: 'BackupJobSession',
  backupTaskSessions: 'BackupTaskSession',
};

/** Collections whose last segment alone would name the wrong type (`/agents/jobs` holds AgentBackupJobs). */
const GUID_COLLECTION_PATHS: Record<string, string> = Object.fromEntries(ABSENT_COLLECTIONS.map((c) => [`/api${c.collection}`, c.type]));

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** For a route pattern, each GUID parameter and its EM type: `/api/jobs/:id` -> [['id', 'Job']]. */
function guidParams(url: string): [string, string][] {
  const segments = url.split('/');
  const out: [string, string][] = [];
  for (let i = 1; i < segments.length; i++) {
    const type = GUID_COLLECTION_PATHS[segments.slice(0, i).join('/')] ?? GUID_COLLECTIONS[segments[i - 1]];
    if (type && segments[i].startsWith(':')) out.push([segments[i].slice(1), type]);
  }
  return out;
}

/**
 * An `{ID}` that is not a GUID is a bad request, not an unknown resource: Enterprise Manager answers 400
 * " ID 99999 is invalid. Type: Job" (issue #10 item 6). Checked here, for every route at once, before the
 * body is read; the session hook has already run, so nobody without a session learns anything.
 */
export function guidIdHook() {
  // Each route pattern is looked at once, on its first request.
  const byRoute = new Map<string, [string, string][]>();
  return async (request: FastifyRequest, _reply: FastifyReply, payload: unknown): Promise<unknown> => {
    const url = request.routeOptions.url;
    if (!url) return payload;
    let params = byRoute.get(url);
    if (!params) byRoute.set(url, (params = guidParams(url)));
    const values = request.params as Record<string, string | undefined>;
    for (const [name, type] of params) {
      const v = values[name];
      if (v !== undefined && !GUID.test(v)) throw badRequest(` ID ${v.slice(0, 256)} is invalid. Type: ${type}`);
    }
    return payload;
  };
}
