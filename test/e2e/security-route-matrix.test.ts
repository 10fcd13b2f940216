// Issue #6 "How it is checked": every route of /api/openapi.json, run with no session, an ended and an unknown
// session, and each role in and out of its restore scope; the status codes are compared with the matrix below.
// A route the matrix does not name fails the test, so a new route gets its row (and its access check) first.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServerProcess, ADMIN_PASSWORD, type ServerProcess } from '../helpers/server-process.js';
import { parseXml } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

// ─── The matrix ─────────────────────────────────────────────────────────────────────────────────────────────
// Callers: none = no session; ended = a session that was logged off; bogus = a token never issued;
// admin = Portal Administrator; user = Portal User, scope vm:inscope; fileop = Restore Operator, scope
// vm:inscope, file-level restores only; rootop = Restore Operator, scope root:<hierarchy root of inscope>.
// Objects: in / out = of VM `inscope` (vSphere) / `outscope` (Hyper-V); own / other = made by the caller /
// by another account (`bystander`, a Portal User of inscope); list = the collection. Rows run top to bottom,
// columns left to right except admin, which runs last (it may consume what the others must not).
// A row ending in `todo: …` is a known bug outside this test's reach: its expected codes are the right ones.
const MATRIX = `
route                                                        | object        | none ended bogus | admin user fileop rootop
GET    /api/logonSessions                                    | list          | 401  401   401   | 200   200  200    200
GET    /api/logonSessions/{id}                               | own           | 401  401   401   | 200   200  200    200
GET    /api/logonSessions/{id}                               | other         | 401  401   401   | 200   404  404    404
GET    /api/backupServers                                    | list          | 401  401   401   | 200   200  200    200
GET    /api/backupServers/{id}                               | the server    | 401  401   401   | 200   200  200    200
GET    /api/backupServers/{id}/jobs                                     | the server    | 401  401   401   | 200   200  200    200
GET    /api/backupServers/{id}/managedServers                           | the server    | 401  401   401   | 200   200  200    200
GET    /api/backupServers/{id}/repositories                             | the server    | 401  401   401   | 200   200  200    200
GET    /api/backupServers/{id}/externalRepositories                     | the server    | 401  401   401   | 200   200  200    200
GET    /api/hierarchyRoots                                   | list          | 401  401   401   | 200   200  200    200
GET    /api/hierarchyRoots/{id}                              | in            | 401  401   401   | 200   200  200    200
GET    /api/hierarchyRoots/{id}                              | out           | 401  401   401   | 200   403  403    403
GET    /api/jobs                                             | list          | 401  401   401   | 200   200  200    200
GET    /api/jobs/{id}                                        | in            | 401  401   401   | 200   200  200    200
GET    /api/jobs/{id}                                        | out           | 401  401   401   | 200   403  403    403
GET    /api/jobs/{id}/includes                               | in            | 401  401   401   | 200   200  200    200
GET    /api/jobs/{id}/includes                               | out           | 401  401   401   | 200   403  403    403
GET    /api/jobs/{id}/includes/{objectId}                    | in            | 401  401   401   | 200   200  200    200
GET    /api/jobs/{id}/includes/{objectId}                    | out           | 401  401   401   | 200   403  403    403
GET    /api/backups                                          | list          | 401  401   401   | 200   200  200    200
GET    /api/backups/{id}                                     | in            | 401  401   401   | 200   200  200    200
GET    /api/backups/{id}                                     | out           | 401  401   401   | 200   403  403    403
GET    /api/backups/{id}/restorePoints                       | in            | 401  401   401   | 200   200  200    200
GET    /api/backups/{id}/restorePoints                       | out           | 401  401   401   | 200   403  403    403
GET    /api/restorePoints                                    | list          | 401  401   401   | 200   200  200    200
GET    /api/restorePoints/{id}                               | in            | 401  401   401   | 200   200  200    200
GET    /api/restorePoints/{id}                               | out           | 401  401   401   | 200   403  403    403
GET    /api/restorePoints/{id}/vmRestorePoints               | in            | 401  401   401   | 200   200  200    200
GET    /api/restorePoints/{id}/vmRestorePoints               | out           | 401  401   401   | 200   403  403    403
GET    /api/vmRestorePoints                                  | list          | 401  401   401   | 200   200  200    200
GET    /api/vmRestorePoints/{id}                             | in            | 401  401   401   | 200   200  200    200
GET    /api/vmRestorePoints/{id}                             | out           | 401  401   401   | 200   403  403    403
GET    /api/querySvc                                         | list          | 401  401   401   | 200   200  200    200
GET    /api/query                                            | VmRestorePoint| 401  401   401   | 200   200  200    200
GET    /api/query                                            | RestorePoint  | 401  401   401   | 200   200  200    200
GET    /api/query                                            | Job           | 401  401   401   | 200   200  200    200
GET    /api/query                                            | Backup        | 401  401   401   | 200   200  200    200
GET    /api/query                                            | HierarchyRoot | 401  401   401   | 200   200  200    200
GET    /api/query                                            | Task          | 401  401   401   | 200   200  200    200
GET    /api/query                                            | RestoreSession| 401  401   401   | 200   200  200    200
GET    /api/backupSessions                                   | list          | 401  401   401   | 200   200  200    200
GET    /api/backupSessions/{id}                              | in            | 401  401   401   | 200   200  200    200
GET    /api/backupSessions/{id}                              | out           | 401  401   401   | 200   403  403    403
GET    /api/backupSessions/{id}/taskSessions                 | in            | 401  401   401   | 200   200  200    200
GET    /api/backupSessions/{id}/taskSessions                 | out           | 401  401   401   | 200   403  403    403
POST   /api/backupSessions/{id}                              | in            | 401  401   401   | 202   403  403    403
POST   /api/backupSessions/{id}                              | out           | 401  401   401   | 202   403  403    403
GET    /api/backupTaskSessions                               | list          | 401  401   401   | 200   200  200    200
GET    /api/backupTaskSessions/{id}                          | in            | 401  401   401   | 200   200  200    200
GET    /api/backupTaskSessions/{id}                          | out           | 401  401   401   | 200   403  403    403
GET    /api/jobs/{id}/backupSessions                         | in            | 401  401   401   | 200   200  200    200
GET    /api/jobs/{id}/backupSessions                         | out           | 401  401   401   | 200   403  403    403
GET    /api/backupFiles                                      | list          | 401  401   401   | 200   200  200    200
GET    /api/backupFiles/{id}                                 | in            | 401  401   401   | 200   200  200    200
GET    /api/backupFiles/{id}                                 | out           | 401  401   401   | 200   403  403    403
GET    /api/backupFiles/{id}/restorePoints                   | in            | 401  401   401   | 200   200  200    200
GET    /api/backupFiles/{id}/restorePoints                   | out           | 401  401   401   | 200   403  403    403
GET    /api/backupFiles/{id}/vmRestorePoints                 | in            | 401  401   401   | 200   200  200    200
GET    /api/backupFiles/{id}/vmRestorePoints                 | out           | 401  401   401   | 200   403  403    403
GET    /api/restorePoints/{id}/backupFiles                   | in            | 401  401   401   | 200   200  200    200
GET    /api/restorePoints/{id}/backupFiles                   | out           | 401  401   401   | 200   403  403    403
GET    /api/backups/{id}/backupFiles                         | in            | 401  401   401   | 200   200  200    200
GET    /api/backups/{id}/backupFiles                         | out           | 401  401   401   | 200   403  403    403
GET    /api/repositories                                     | list          | 401  401   401   | 200   200  200    200
GET    /api/repositories/{id}                                | the repository| 401  401   401   | 200   200  200    200
GET    /api/repositories/{id}/backups                        | list          | 401  401   401   | 200   200  200    200
GET    /api/repositories/{id}/replicas                       | empty list    | 401  401   401   | 200   200  200    200
GET    /api/managedServers                                   | list          | 401  401   401   | 200   200  200    200
GET    /api/managedServers/{id}                              | the host      | 401  401   401   | 200   200  200    200
GET    /api/openem/currentAccount                            | own           | 401  401   401   | 200   200  200    200
GET    /api/reports/summary                                  | report        | 401  401   401   | 200   403  403    403
GET    /api/reports/summary/overview                         | report        | 401  401   401   | 200   403  403    403
GET    /api/reports/summary/vms_overview                     | report        | 401  401   401   | 200   403  403    403
GET    /api/reports/summary/job_statistics                   | report        | 401  401   401   | 200   403  403    403
GET    /api/reports/summary/processed_vms                    | report        | 401  401   401   | 200   403  403    403
GET    /api/reports/summary/repository                       | report        | 401  401   401   | 200   403  403    403
GET    /api/query                                            | BackupJobSession  | 401  401   401   | 200   200  200    200
GET    /api/query                                            | BackupTaskSession | 401  401   401   | 200   200  200    200
GET    /api/query                                            | BackupFile    | 401  401   401   | 200   200  200    200
GET    /api/query                                            | Repository    | 401  401   401   | 200   200  200    200
GET    /api/query                                            | ManagedServer | 401  401   401   | 200   200  200    200
GET    /api/query                                            | CatalogVm     | 401  401   401   | 200   200  200    200
GET    /api/lookupSvc                                        | list          | 401  401   401   | 200   200  200    200
GET    /api/lookup                                           | in            | 401  401   401   | 200   200  200    200
GET    /api/lookup                                           | out           | 401  401   401   | 200   200  200    200
GET    /api/catalog/vms                                      | list          | 401  401   401   | 200   200  200    200
GET    /api/catalog/vms/{vmname}                             | in            | 401  401   401   | 200   200  200    200
GET    /api/catalog/vms/{vmname}                             | out           | 401  401   401   | 200   403  403    403
GET    /api/catalog/vms/{vmname}/vmRestorePoints             | in            | 401  401   401   | 200   200  200    200
GET    /api/catalog/vms/{vmname}/vmRestorePoints             | out           | 401  401   401   | 200   403  403    403
GET    /api/catalog/vms/{vmname}/vmRestorePoints/{id}        | in            | 401  401   401   | 200   200  200    200
GET    /api/catalog/vms/{vmname}/vmRestorePoints/{id}        | out           | 401  401   401   | 200   403  403    403
GET    /api/openem/catalog/vms/{vmname}/vmRestorePoints/{id}/indexState | in | 401  401   401   | 200   200  200    200
GET    /api/openem/catalog/vms/{vmname}/vmRestorePoints/{id}/indexState | out | 401  401   401   | 200   403  403    403
GET    /api/catalog/search                                   | list          | 401  401   401   | 200   200  200    200
GET    /api/catalog/search                                   | out           | 401  401   401   | 200   403  403    403
GET    /api/catalog/vms/{vmname}/vmRestorePoints/{id}/guestfs        | in    | 401  401   401   | 200   200  200    200
GET    /api/catalog/vms/{vmname}/vmRestorePoints/{id}/guestfs        | out   | 401  401   401   | 200   403  403    403
GET    /api/catalog/vms/{vmname}/vmRestorePoints/{id}/guestfs/{path} | in    | 401  401   401   | 200   200  200    200
GET    /api/catalog/vms/{vmname}/vmRestorePoints/{id}/guestfs/{path} | out   | 401  401   401   | 200   403  403    403
GET    /api/vmRestorePoints/{id}/mounts                      | in            | 401  401   401   | 200   200  200    200
GET    /api/vmRestorePoints/{id}/mounts                      | out           | 401  401   401   | 200   403  403    403
GET    /api/vmRestorePoints/{id}/mounts/{n}                  | own           | 401  401   401   | 200   200  200    200
GET    /api/vmRestorePoints/{id}/mounts/{n}                  | other         | 401  401   401   | 200   404  404    404
GET    /api/vmRestorePoints/{id}/mounts/{n}                  | out           | 401  401   401   | 200   403  403    403
GET    /api/openem/vmRestorePoints/{id}/mounts/{n}           | own           | 401  401   401   | 200   200  200    200
GET    /api/openem/vmRestorePoints/{id}/mounts/{n}           | other         | 401  401   401   | 200   404  404    404
GET    /api/openem/vmRestorePoints/{id}/mounts/{n}           | out           | 401  401   401   | 200   403  403    403
GET    /api/vmRestorePoints/{id}/mounts/{n}/{path}           | own           | 401  401   401   | 200   200  200    200
GET    /api/vmRestorePoints/{id}/mounts/{n}/{path}           | own download  | 401  401   401   | 200   200  200    200
GET    /api/vmRestorePoints/{id}/mounts/{n}/{path}           | other         | 401  401   401   | 200   404  404    404
GET    /api/vmRestorePoints/{id}/mounts/{n}/{path}           | out           | 401  401   401   | 200   403  403    403
GET    /api/tasks                                            | list          | 401  401   401   | 200   200  200    200
GET    /api/tasks/{id}                                       | own           | 401  401   401   | 200   200  200    200
GET    /api/tasks/{id}                                       | other         | 401  401   401   | 200   404  404    404
GET    /api/restoreSessions                                  | list          | 401  401   401   | 200   200  200    200
GET    /api/restoreSessions/{id}                             | own           | 401  401   401   | 200   200  200    200
GET    /api/restoreSessions/{id}                             | other         | 401  401   401   | 200   404  404    404
GET    /api/openem/restoreSessions/{id}/log                  | own           | 401  401   401   | 200   200  200    200
GET    /api/openem/restoreSessions/{id}/log                  | other         | 401  401   401   | 200   404  404    404
POST   /api/vmRestorePoints/{id}/mounts                      | in            | 401  401   401   | 202   202  202    202
POST   /api/vmRestorePoints/{id}/mounts                      | out           | 401  401   401   | 202   403  403    403
POST   /api/vmRestorePoints/{id}/mounts/{n}/{path}           | own download  | 401  401   401   | 200   200  200    200
POST   /api/vmRestorePoints/{id}/mounts/{n}/{path}           | own           | 401  401   401   | 202   202  202    202
POST   /api/vmRestorePoints/{id}/mounts/{n}/{path}           | other         | 401  401   401   | 202   404  404    404
POST   /api/vmRestorePoints/{id}/mounts/{n}/{path}           | out           | 401  401   401   | 202   403  403    403
POST   /api/catalog/vms/{vmname}/vmRestorePoints/{id}        | in            | 401  401   401   | 200   200  200    200
POST   /api/catalog/vms/{vmname}/vmRestorePoints/{id}        | out           | 401  401   401   | 200   403  403    403
POST   /api/catalog/vms/{vmname}/vmRestorePoints/{id}/guestfs/{path} | in    | 401  401   401   | 202   202  202    202
POST   /api/catalog/vms/{vmname}/vmRestorePoints/{id}/guestfs/{path} | out   | 401  401   401   | 202   403  403    403
POST   /api/vmRestorePoints/{id}                             | in            | 401  401   401   | 202   202  403    202
POST   /api/vmRestorePoints/{id}                             | in, bad body  | 401  401   401   | 400   400  403    400
POST   /api/vmRestorePoints/{id}                             | out           | 401  401   401   | 202   403  403    403
POST   /api/vmRestorePoints/{id}                             | out, bad body | 401  401   401   | 400   403  403    403
DELETE /api/vmRestorePoints/{id}/mounts/{n}                  | other         | 401  401   401   | 204   404  404    404
DELETE /api/vmRestorePoints/{id}/mounts/{n}                  | out           | 401  401   401   | 204   403  403    403
DELETE /api/vmRestorePoints/{id}/mounts/{n}                  | own           | 401  401   401   | 204   204  204    204
DELETE /api/tasks/{id}                                       | other         | 401  401   401   | 204   404  404    404
DELETE /api/tasks/{id}                                       | own           | 401  401   401   | 204   204  204    204
DELETE /api/logonSessions/{id}                               | other         | 401  401   401   | 204   404  404    404
DELETE /api/logonSessions/{id}                               | own           | 401  401   401   | 204   204  204    204
POST   /api/jobs/{id}                                        | in            | 401  401   401   | 202   403  403    403
POST   /api/jobs/{id}                                        | out           | 401  401   401   | 202   403  403    403
`;

const CALLERS = ['none', 'ended', 'bogus', 'user', 'fileop', 'rootop', 'admin'] as const;
type Caller = (typeof CALLERS)[number];
type Account = Exclude<Caller, 'none' | 'ended' | 'bogus'>;
const COLUMNS: Caller[] = ['none', 'ended', 'bogus', 'admin', 'user', 'fileop', 'rootop'];

interface Row {
  method: string;
  route: string;
  object: string;
  expect: Record<Caller, number>;
  todo?: string;
}

function parseMatrix(text: string): Row[] {
  const lines = text.trim().split('\n').slice(1);
  return lines.map((line) => {
    const [head, object, anon, accounts, todo] = line.split('|').map((s) => s.trim());
    const [method, route] = head.split(/\s+/);
    const codes = `${anon} ${accounts}`.split(/\s+/).map(Number);
    assert.equal(codes.length, COLUMNS.length, line);
    const expect = Object.fromEntries(COLUMNS.map((c, i) => [c, codes[i]])) as Record<Caller, number>;
    return { method, route, object, expect, todo: todo?.replace(/^todo:\s*/, '') };
  });
}
/**
 * Collections of features openem does not have (replication, CDP, agents, file shares, Cloud Connect…): empty
 * lists for everyone with a session, and no item in them (issue #10 "Collections openem has nothing for").
 */
const ABSENT = [
  '/replicas', '/replicaSessions', '/replicaTaskSessions', '/vmReplicaPoints', '/vAppRestorePoints', '/vAppReplicaPoints',
  '/failoverPlans', '/wanAccelerators', '/externalRepositories', '/cdpPolicies', '/cdpReplicas', '/cdpReplicaSessions',
  '/cdpReplicaTaskSessions', '/agents/discoveredComputers', '/agents/jobs', '/agents/protectionGroups', '/agents/agentRestorePoints',
  '/agents/backups', '/agents/restorePoints', '/agents/backupFiles', '/agents/backupSessions', '/nas/jobs', '/nas/fileServers',
  '/nas/backupSessions', '/cloud/tenants', '/cloud/gateways', '/cloud/gatewayPools', '/cloud/hardwarePlans', '/cloud/publicIpAddresses',
  '/cloud/vlans', '/cloud/replicas', '/cloud/vmReplicaPoints', '/cloud/cloudFailoverPlans', '/cloud/failoverSessions', '/vCloud/orgConfigs',
];
const ABSENT_MATRIX = ABSENT.flatMap((p) => [
  `GET /api${p} | empty list | 401 401 401 | 200 200 200 200`,
  `GET /api${p}/{id} | unknown | 401 401 401 | 404 404 404 404`,
]).join('\n');
const ROWS = parseMatrix(`${MATRIX.trim()}\n${ABSENT_MATRIX}`);

// ─── Fixture ────────────────────────────────────────────────────────────────────────────────────────────────
const PASSWORDS: Record<Account | 'bystander', string> = { admin: ADMIN_PASSWORD, user: 'User-pass-1', fileop: 'Fileop-pass-1', rootop: 'Rootop-pass-1', bystander: 'Bystander-pass-1' };

interface Owned {
  token: string;
  /** A second logon session, for logoff rows. */
  spareSession: string;
  session: string;
  task: string;
  restoreSession: string;
  /** Number of the caller's mount of inscope's point. */
  mount: number;
}

let server: ServerProcess;
let base: string;
const owned = {} as Record<Account | 'bystander', Owned>;
let endedToken: string;
const ids = { server: '', rootIn: '', rootOut: '', jobIn: '', jobOut: '', rpIn: '', rpOut: '', vpIn: '', vpOut: '', adminOutMount: 0, includeIn: '', includeOut: '', sessionIn: '', sessionOut: '', taskIn: '', taskOut: '', repository: '', managedServer: '' };

interface Res {
  status: number;
  text: string;
  type: string;
}

async function call(method: string, path: string, token?: string, body?: string): Promise<Res> {
  const headers: Record<string, string> = { Accept: 'application/xml' };
  if (token) headers['X-RestSvcSessionId'] = token;
  if (body !== undefined) headers['Content-Type'] = 'application/xml';
  const res = await fetch(base + path, { method, headers, body });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
}

async function logOn(user: string, password: string): Promise<{ status: number; token: string; id: string }> {
  const res = await fetch(`${base}/api/sessionMngr/?v=latest`, { method: 'POST', headers: { Authorization: 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64') } });
  const text = await res.text();
  const id = res.status === 201 ? String(parseXml(text).LogonSession.Href).split('/').pop()! : '';
  return { status: res.status, token: res.headers.get('x-restsvcsessionid') ?? '', id };
}

const admin = () => owned.admin.token;

/** Polls a task (as admin) until Finished, then its restore session, if any, until Stopped; returns the task's XML. */
async function settle(taskId: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await call('GET', `/api/tasks/${taskId}`, admin());
    assert.equal(r.status, 200, r.text);
    if (r.text.includes('<State>Finished</State>')) {
      const session = /Type="RestoreSession" Href="[^"]*\/restoreSessions\/([^"?]+)/.exec(r.text)?.[1];
      while (session) {
        const s = await call('GET', `/api/restoreSessions/${session}?format=Entity`, admin());
        if (s.text.includes('<State>Stopped</State>')) break;
        if (Date.now() > deadline) throw new Error(`restore session ${session} did not stop`);
        await sleep(50);
      }
      return r.text;
    }
    if (Date.now() > deadline) throw new Error(`task ${taskId} did not finish: ${r.text}`);
    await sleep(50);
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const taskIdOf = (xml: string) => /<TaskId>([^<]+)<\/TaskId>/.exec(xml)?.[1] ?? assert.fail(`no task in ${xml}`);

const MOUNT_SPEC = '<VmRestorePointMountSpec xmlns="http://www.veeam.com/ent/v1.0"><OsKind>Linux</OsKind></VmRestorePointMountSpec>';
const FILE_RESTORE = '<FileRestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><ToOriginalLocation Overwrite="true"/></FileRestoreSpec>';
const DOWNLOAD_SPEC = '<FileRestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><ForDirectDownload/></FileRestoreSpec>';
/** Valid XML that fails RestoreSpec's rules (QuickRollback is required for vSphere and Hyper-V VMs). */
const BAD_RESTORE_SPEC = '<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><VmRestoreSpec><PowerOnAfterRestore>false</PowerOnAfterRestore></VmRestoreSpec></RestoreSpec>';

async function mount(token: string, vp: string): Promise<{ task: string; n: number }> {
  const r = await call('POST', `/api/vmRestorePoints/${vp}/mounts`, token, MOUNT_SPEC);
  assert.equal(r.status, 202, r.text);
  const task = taskIdOf(r.text);
  const done = await settle(task);
  const n = Number(/\/mounts\/(\d+)"/.exec(done)?.[1] ?? assert.fail(`mount task has no Related mount: ${done}`));
  return { task, n };
}

async function catalogRestore(token: string): Promise<{ task: string; session: string }> {
  const r = await call('POST', `/api/catalog/vms/inscope/vmRestorePoints/${ids.vpIn}/guestfs/etc/hostname?action=restore`, token, FILE_RESTORE);
  assert.equal(r.status, 202, r.text);
  const task = taskIdOf(r.text);
  const done = await settle(task);
  const session = /\/restoreSessions\/([^"?]+)/.exec(done)?.[1] ?? assert.fail(`file restore task has no restore session: ${done}`);
  return { task, session };
}

async function createVm(dataDir: string, name: string, platform: string): Promise<void> {
  const src = tempDir(cleanup, `openem-${name}-src-`);
  mkdirSync(join(src, 'etc'));
  writeFileSync(join(src, 'etc', 'hostname'), `${name}\n`);
  await cliOk(dataDir, ['vm', 'create', name, '--from-dir', src, '--size', '32M', '--platform', platform]);
  await cliOk(dataDir, ['backup', name]);
}

before(async () => {
  const dataDir = tempDir(cleanup, 'openem-matrix-');
  await createVm(dataDir, 'inscope', 'vsphere');
  await createVm(dataDir, 'outscope', 'hyperv');
  const platform = JSON.parse(readFileSync(join(dataDir, 'platform.json'), 'utf8'));
  ids.rootIn = platform.hierarchyRoots.find((r: any) => r.platform === 'vsphere').id;
  ids.rootOut = platform.hierarchyRoots.find((r: any) => r.platform === 'hyperv').id;
  const add = (name: string, args: string[]) => cliOk(dataDir, ['user', 'add', name, '--password-stdin', ...args], { input: `${PASSWORDS[name as Account] ?? 'Norole-pass-1'}\n` });
  await Promise.all([
    add('user', ['--role', 'portal-user', '--scope', 'vm:inscope']),
    add('fileop', ['--role', 'restore-operator', '--scope', 'vm:inscope', '--kinds', 'file']),
    add('rootop', ['--role', 'restore-operator', '--scope', `root:${ids.rootIn}`]),
    add('bystander', ['--role', 'portal-user', '--scope', 'vm:inscope']),
    add('norole', ['--role', 'none']),
  ]);
  server = await startServerProcess({ dataDir, env: { OPENEM_MAX_MOUNTS: '64', OPENEM_MAX_RESTORES: '8' } });
  cleanup.defer(async () => {
    assert.equal(await server?.stop(), 0);
  });
  base = server.http;

  const accounts = ['admin', 'user', 'fileop', 'rootop', 'bystander'] as const;
  const sessions = await Promise.all(accounts.map(async (a) => [await logOn(a, PASSWORDS[a]), await logOn(a, PASSWORDS[a])]));
  for (const [i, a] of accounts.entries()) {
    for (const s of sessions[i]) assert.equal(s.status, 201, `${a} logs on`);
    owned[a] = { token: sessions[i][0].token, session: sessions[i][0].id, spareSession: sessions[i][1].id, task: '', restoreSession: '', mount: 0 };
  }
  const ended = await logOn('admin', ADMIN_PASSWORD);
  assert.equal((await call('DELETE', `/api/logonSessions/${ended.id}`, ended.token)).status, 204);
  endedToken = ended.token;

  const idOf = (xml: string, type: string, name: string) =>
    new RegExp(`Name="${name}[^"]*" UID="urn:veeam:${type}:([^"]+)"`).exec(xml)?.[1] ?? assert.fail(`no ${type} ${name} in ${xml}`);
  ids.server = /UID="urn:veeam:BackupServer:([^"]+)"/.exec((await call('GET', '/api/backupServers', admin())).text)![1];
  const jobs = (await call('GET', '/api/jobs', admin())).text;
  ids.jobIn = idOf(jobs, 'Job', 'Backup inscope');
  ids.jobOut = idOf(jobs, 'Job', 'Backup outscope');
  const vps = (await call('GET', '/api/vmRestorePoints', admin())).text;
  ids.vpIn = idOf(vps, 'VmRestorePoint', 'inscope@');
  ids.vpOut = idOf(vps, 'VmRestorePoint', 'outscope@');
  for (const side of ['In', 'Out'] as const) {
    const e = (await call('GET', `/api/vmRestorePoints/${ids[`vp${side}`]}?format=Entity`, admin())).text;
    ids[`rp${side}`] = /\/restorePoints\/([^"/]+)"/.exec(e)?.[1] ?? assert.fail(e);
  }
  assert.notEqual(ids.rpIn, ids.rpOut);
  for (const side of ['In', 'Out'] as const) {
    const includes = (await call('GET', `/api/jobs/${ids[`job${side}`]}/includes`, admin())).text;
    ids[`include${side}`] = /<ObjectInJobId>([^<]+)</.exec(includes)?.[1] ?? assert.fail(includes);
  }
  // The CLI backups above are each a backup job session of the VM's default job, with one task session.
  for (const side of ['In', 'Out'] as const) {
    const sessions = (await call('GET', `/api/jobs/${ids[`job${side}`]}/backupSessions`, admin())).text;
    ids[`session${side}`] = /UID="urn:veeam:BackupJobSession:([^"]+)"/.exec(sessions)?.[1] ?? assert.fail(sessions);
    const tasks = (await call('GET', `/api/backupSessions/${ids[`session${side}`]}/taskSessions`, admin())).text;
    ids[`task${side}`] = /UID="urn:veeam:BackupTaskSession:([^"]+)"/.exec(tasks)?.[1] ?? assert.fail(tasks);
  }
  ids.repository = /UID="urn:veeam:Repository:([^"]+)"/.exec((await call('GET', '/api/repositories', admin())).text)![1];
  ids.managedServer = /UID="urn:veeam:ManagedServer:([^"]+)"/.exec((await call('GET', '/api/managedServers', admin())).text)![1];

  // Each account's own mount, task and restore session; the bystander's are "another account's".
  for (const a of accounts) {
    const m = await mount(owned[a].token, ids.vpIn);
    const r = await catalogRestore(owned[a].token);
    Object.assign(owned[a], { mount: m.n, task: m.task, restoreSession: r.session });
  }
  ids.adminOutMount = (await mount(admin(), ids.vpOut)).n;
});


// ─── Requests ───────────────────────────────────────────────────────────────────────────────────────────────
function tokenOf(c: Caller): string | undefined {
  if (c === 'none') return undefined;
  if (c === 'ended') return endedToken;
  if (c === 'bogus') return Buffer.alloc(32, 7).toString('base64');
  return owned[c].token;
}
/** Whose objects a caller's "own" means: anonymous callers aim at the administrator's. */
const ownerOf = (c: Caller): Account => (c === 'none' || c === 'ended' || c === 'bogus' ? 'admin' : c);

interface Target {
  url: string;
  body?: string;
  /** For collections: what a caller must find in the answer and what it must not. */
  shows?: (c: Caller) => { present: string[]; absent: string[] };
}

/** Markers of the in-scope and out-of-scope object in a collection: admins see both, scoped accounts only the first. */
const scoped = (inMark: string, outMark: string) => (c: Caller) => (c === 'admin' ? { present: [inMark, outMark], absent: [] } : { present: [inMark], absent: [outMark] });
/** Markers of the caller's own object and the bystander's: admins see both. */
const ownedBy = (mark: (o: Owned) => string) => (c: Caller) =>
  c === 'admin' ? { present: [mark(owned.admin), mark(owned.bystander)], absent: [] } : { present: [mark(owned[ownerOf(c)])], absent: [mark(owned.bystander)] };

function target(row: Row, c: Caller): Target {
  const me = owned[ownerOf(c)];
  const other = owned.bystander;
  const side = row.object.startsWith('out') ? 'Out' : 'In';
  const vp = ids[`vp${side}`];
  const vm = side === 'In' ? 'inscope' : 'outscope';
  const mountOf = () => (row.object === 'out' ? { vp: ids.vpOut, n: ids.adminOutMount } : { vp: ids.vpIn, n: row.object === 'other' ? other.mount : me.mount });
  const key = `${row.method} ${row.route}`;
  if (row.object === 'empty list') return { url: row.route.replace('{id}', ids.repository), shows: () => ({ present: ['<EntityReferences'], absent: ['<Ref '] }) };
  if (row.object === 'report') return { url: row.route, shows: () => ({ present: [row.route.endsWith('/summary') ? '<SummaryReport' : 'ReportFrame'], absent: [] }) };
  if (row.object === 'unknown') return { url: row.route.replace('{id}', '00000000-0000-0000-0000-000000000000') };
  switch (key) {
    case 'GET /api/querySvc':
      return { url: '/api/querySvc', shows: () => ({ present: ['type=VmRestorePoint'], absent: [] }) };
    case 'GET /api/backupServers/{id}/jobs':
    case 'GET /api/backupServers/{id}/managedServers':
    case 'GET /api/backupServers/{id}/repositories':
    case 'GET /api/backupServers/{id}/externalRepositories':
      return { url: row.route.replace('{id}', ids.server) };
    case 'GET /api/logonSessions':
      return { url: '/api/logonSessions', shows: ownedBy((o) => o.session) };
    case 'GET /api/logonSessions/{id}':
      return { url: `/api/logonSessions/${row.object === 'own' ? me.session : other.session}` };
    case 'DELETE /api/logonSessions/{id}':
      return { url: `/api/logonSessions/${row.object === 'own' ? me.spareSession : other.spareSession}` };
    case 'GET /api/backupServers':
      return { url: '/api/backupServers', shows: () => ({ present: [ids.server], absent: [] }) };
    case 'GET /api/backupServers/{id}':
      return { url: `/api/backupServers/${ids.server}` };
    case 'GET /api/hierarchyRoots':
      return { url: '/api/hierarchyRoots', shows: scoped(ids.rootIn, ids.rootOut) };
    case 'GET /api/hierarchyRoots/{id}':
      return { url: `/api/hierarchyRoots/${ids[`root${side}`]}` };
    case 'GET /api/jobs':
    case 'GET /api/backups':
      return { url: key.slice(4), shows: scoped(ids.jobIn, ids.jobOut) };
    case 'GET /api/jobs/{id}':
      return { url: `/api/jobs/${ids[`job${side}`]}?format=Entity` };
    case 'GET /api/jobs/{id}/includes':
      return { url: `/api/jobs/${ids[`job${side}`]}/includes`, shows: () => ({ present: [`<Name>${side === 'In' ? 'inscope' : 'outscope'}</Name>`], absent: [] }) };
    case 'GET /api/jobs/{id}/includes/{objectId}':
      return { url: `/api/jobs/${ids[`job${side}`]}/includes/${ids[`include${side}`]}` };
    case 'POST /api/jobs/{id}':
      return { url: `/api/jobs/${ids[`job${side}`]}?action=start` };
    case 'GET /api/backups/{id}':
      return { url: `/api/backups/${ids[`job${side}`]}?format=Entity` };
    case 'GET /api/backups/{id}/restorePoints':
      return { url: `/api/backups/${ids[`job${side}`]}/restorePoints`, shows: () => ({ present: [ids[`rp${side}`]], absent: [] }) };
    case 'GET /api/restorePoints':
      return { url: '/api/restorePoints', shows: scoped(ids.rpIn, ids.rpOut) };
    case 'GET /api/restorePoints/{id}':
      return { url: `/api/restorePoints/${ids[`rp${side}`]}?format=Entity` };
    case 'GET /api/restorePoints/{id}/vmRestorePoints':
      return { url: `/api/restorePoints/${ids[`rp${side}`]}/vmRestorePoints`, shows: () => ({ present: [vp], absent: [] }) };
    case 'GET /api/vmRestorePoints':
      return { url: '/api/vmRestorePoints', shows: scoped(ids.vpIn, ids.vpOut) };
    case 'GET /api/vmRestorePoints/{id}':
      return { url: `/api/vmRestorePoints/${vp}?format=Entity` };
    case 'POST /api/vmRestorePoints/{id}':
      return { url: `/api/vmRestorePoints/${vp}?action=restore`, body: row.object.endsWith('bad body') ? BAD_RESTORE_SPEC : undefined };
    case 'GET /api/query': {
      const url = `/api/query?type=${row.object}&format=Entities`;
      const shows: Record<string, Target['shows']> = {
        VmRestorePoint: scoped(ids.vpIn, ids.vpOut),
        RestorePoint: scoped(ids.rpIn, ids.rpOut),
        Job: scoped(ids.jobIn, ids.jobOut),
        Backup: scoped(ids.jobIn, ids.jobOut),
        HierarchyRoot: scoped(ids.rootIn, ids.rootOut),
        Task: ownedBy((o) => `/tasks/${o.task}"`),
        RestoreSession: ownedBy((o) => o.restoreSession),
        BackupJobSession: scoped(ids.sessionIn, ids.sessionOut),
        BackupTaskSession: scoped(ids.taskIn, ids.taskOut),
        BackupFile: scoped(ids.vpIn, ids.vpOut),
        Repository: () => ({ present: [ids.repository], absent: [] }),
        ManagedServer: () => ({ present: [ids.managedServer], absent: [] }),
        CatalogVm: scoped('Name="inscope"', 'Name="outscope"'),
      };
      return { url, shows: shows[row.object] };
    }
    case 'GET /api/backupSessions':
      return { url: '/api/backupSessions', shows: scoped(ids.sessionIn, ids.sessionOut) };
    case 'GET /api/backupSessions/{id}':
      return { url: `/api/backupSessions/${ids[`session${side}`]}?format=Entity` };
    case 'GET /api/backupSessions/{id}/taskSessions':
      return { url: `/api/backupSessions/${ids[`session${side}`]}/taskSessions`, shows: () => ({ present: [ids[`task${side}`]], absent: [] }) };
    case 'POST /api/backupSessions/{id}':
      // The session has stopped: the admin's stop request is accepted and its task says it is not running.
      return { url: `/api/backupSessions/${ids[`session${side}`]}?action=stop` };
    case 'GET /api/backupTaskSessions':
      return { url: '/api/backupTaskSessions', shows: scoped(ids.taskIn, ids.taskOut) };
    case 'GET /api/backupTaskSessions/{id}':
      return { url: `/api/backupTaskSessions/${ids[`task${side}`]}?format=Entity` };
    case 'GET /api/jobs/{id}/backupSessions':
      return { url: `/api/jobs/${ids[`job${side}`]}/backupSessions`, shows: () => ({ present: [ids[`session${side}`]], absent: [] }) };
    case 'GET /api/backupFiles':
      return { url: '/api/backupFiles', shows: scoped(ids.vpIn, ids.vpOut) };
    case 'GET /api/backupFiles/{id}':
      return { url: `/api/backupFiles/${vp}?format=Entity` };
    case 'GET /api/backupFiles/{id}/restorePoints':
      return { url: `/api/backupFiles/${vp}/restorePoints`, shows: () => ({ present: [ids[`rp${side}`]], absent: [] }) };
    case 'GET /api/backupFiles/{id}/vmRestorePoints':
      return { url: `/api/backupFiles/${vp}/vmRestorePoints`, shows: () => ({ present: [vp], absent: [] }) };
    case 'GET /api/restorePoints/{id}/backupFiles':
      return { url: `/api/restorePoints/${ids[`rp${side}`]}/backupFiles`, shows: () => ({ present: [vp], absent: [] }) };
    case 'GET /api/backups/{id}/backupFiles':
      return { url: `/api/backups/${ids[`job${side}`]}/backupFiles`, shows: () => ({ present: [vp], absent: [] }) };
    case 'GET /api/repositories':
      return { url: '/api/repositories', shows: () => ({ present: [ids.repository], absent: [] }) };
    case 'GET /api/repositories/{id}':
      return { url: `/api/repositories/${ids.repository}?format=Entity` };
    case 'GET /api/repositories/{id}/backups':
      return { url: `/api/repositories/${ids.repository}/backups`, shows: scoped(ids.jobIn, ids.jobOut) };
    case 'GET /api/managedServers':
      return { url: '/api/managedServers', shows: () => ({ present: [ids.managedServer], absent: [] }) };
    case 'GET /api/managedServers/{id}':
      return { url: `/api/managedServers/${ids.managedServer}?format=Entity` };
    case 'GET /api/openem/currentAccount':
      // Each account reads its own: its name, never another's.
      return { url: '/api/openem/currentAccount', shows: () => ({ present: ['<CurrentAccount', '<UserName>'], absent: [] }) };
    case 'GET /api/lookupSvc':
      return { url: '/api/lookupSvc', shows: scoped(ids.rootIn, ids.rootOut) };
    case 'GET /api/lookup':
      // Out of scope is not refused: the caller's lookup just finds nothing there.
      return {
        url: `/api/lookup?host=urn:veeam:HierarchyRoot:${ids[`root${side}`]}&name=*&type=Vm`,
        shows: (c) => (side === 'In' || c === 'admin' ? { present: [`<ObjectName>${vm}</ObjectName>`], absent: [] } : { present: ['<HierarchyItems'], absent: ['<ObjectName>outscope</ObjectName>'] }),
      };
    case 'GET /api/catalog/vms':
      return { url: '/api/catalog/vms', shows: scoped('Name="inscope"', 'Name="outscope"') };
    case 'GET /api/catalog/vms/{vmname}':
      return { url: `/api/catalog/vms/${vm}?format=Entity` };
    case 'GET /api/catalog/vms/{vmname}/vmRestorePoints':
      return { url: `/api/catalog/vms/${vm}/vmRestorePoints`, shows: () => ({ present: [vp], absent: [] }) };
    case 'GET /api/catalog/vms/{vmname}/vmRestorePoints/{id}':
      return { url: `/api/catalog/vms/${vm}/vmRestorePoints/${vp}?format=Entity` };
    case 'GET /api/openem/catalog/vms/{vmname}/vmRestorePoints/{id}/indexState':
      return { url: `/api/openem/catalog/vms/${vm}/vmRestorePoints/${vp}/indexState` };
    case 'GET /api/catalog/search':
      return row.object === 'list'
        ? { url: '/api/catalog/search?name=hostname', shows: scoped('<VmName>inscope</VmName>', '<VmName>outscope</VmName>') }
        : { url: '/api/catalog/search?name=hostname&vm=outscope' };
    case 'GET /api/catalog/vms/{vmname}/vmRestorePoints/{id}/guestfs':
      return { url: `/api/catalog/vms/${vm}/vmRestorePoints/${vp}/guestfs`, shows: () => ({ present: ['etc'], absent: [] }) };
    case 'GET /api/catalog/vms/{vmname}/vmRestorePoints/{id}/guestfs/{path}':
      return { url: `/api/catalog/vms/${vm}/vmRestorePoints/${vp}/guestfs/etc`, shows: () => ({ present: ['hostname'], absent: [] }) };
    case 'POST /api/catalog/vms/{vmname}/vmRestorePoints/{id}':
      return { url: `/api/catalog/vms/${vm}/vmRestorePoints/${vp}?action=browse` };
    case 'POST /api/catalog/vms/{vmname}/vmRestorePoints/{id}/guestfs/{path}':
      return { url: `/api/catalog/vms/${vm}/vmRestorePoints/${vp}/guestfs/etc/hostname?action=restore`, body: FILE_RESTORE };
    case 'GET /api/vmRestorePoints/{id}/mounts':
      return {
        url: `/api/vmRestorePoints/${vp}/mounts`,
        shows: (c) =>
          side === 'Out'
            ? { present: [`/mounts/${ids.adminOutMount}"`], absent: [] }
            : c === 'admin'
              ? { present: [`/mounts/${owned.admin.mount}"`, `/mounts/${other.mount}"`], absent: [] }
              : { present: [`/mounts/${me.mount}"`], absent: [`/mounts/${other.mount}"`] },
      };
    case 'POST /api/vmRestorePoints/{id}/mounts':
      return { url: `/api/vmRestorePoints/${vp}/mounts`, body: MOUNT_SPEC };
    case 'GET /api/vmRestorePoints/{id}/mounts/{n}':
    case 'DELETE /api/vmRestorePoints/{id}/mounts/{n}': {
      const m = mountOf();
      return { url: `/api/vmRestorePoints/${m.vp}/mounts/${m.n}` };
    }
    case 'GET /api/openem/vmRestorePoints/{id}/mounts/{n}': {
      const m = mountOf();
      return { url: `/api/openem/vmRestorePoints/${m.vp}/mounts/${m.n}` };
    }
    case 'GET /api/vmRestorePoints/{id}/mounts/{n}/{path}': {
      const m = mountOf();
      if (row.object === 'own download') return { url: `/api/vmRestorePoints/${m.vp}/mounts/${m.n}/etc/hostname?action=download`, shows: () => ({ present: ['inscope\n'], absent: [] }) };
      return { url: `/api/vmRestorePoints/${m.vp}/mounts/${m.n}/etc`, shows: () => ({ present: ['hostname'], absent: [] }) };
    }
    case 'POST /api/vmRestorePoints/{id}/mounts/{n}/{path}': {
      const m = mountOf();
      if (row.object === 'own download') return { url: `/api/vmRestorePoints/${m.vp}/mounts/${m.n}/etc/hostname?action=download`, shows: () => ({ present: ['inscope\n'], absent: [] }) };
      return { url: `/api/vmRestorePoints/${m.vp}/mounts/${m.n}/etc/hostname?action=restore`, body: FILE_RESTORE };
    }
    case 'GET /api/tasks':
      return { url: '/api/tasks', shows: ownedBy((o) => `/tasks/${o.task}"`) };
    case 'GET /api/tasks/{id}':
    case 'DELETE /api/tasks/{id}':
      return { url: `/api/tasks/${row.object === 'own' ? me.task : other.task}` };
    case 'GET /api/restoreSessions':
      return { url: '/api/restoreSessions', shows: ownedBy((o) => o.restoreSession) };
    case 'GET /api/restoreSessions/{id}':
      return { url: `/api/restoreSessions/${row.object === 'own' ? me.restoreSession : other.restoreSession}?format=Entity` };
    case 'GET /api/openem/restoreSessions/{id}/log':
      return { url: `/api/openem/restoreSessions/${row.object === 'own' ? me.restoreSession : other.restoreSession}/log` };
  }
  throw new Error(`the matrix names ${key}, which this test cannot call`);
}

/** What a refused request must not have changed: tasks, restore sessions, mounts and logon sessions, as the admin sees them. */
async function snapshot(): Promise<string> {
  const count = async (path: string, re: RegExp) => {
    const r = await call('GET', path, admin());
    assert.equal(r.status, 200, r.text);
    return (r.text.match(re) ?? []).length;
  };
  return JSON.stringify({
    tasks: await count('/api/tasks', /<TaskId>/g),
    restoreSessions: await count('/api/restoreSessions', /Type="RestoreSessionReference"/g),
    mountsIn: await count(`/api/vmRestorePoints/${ids.vpIn}/mounts`, /Type="VmRestorePointMount" Href/g),
    mountsOut: await count(`/api/vmRestorePoints/${ids.vpOut}/mounts`, /Type="VmRestorePointMount" Href/g),
    logonSessions: await count('/api/logonSessions', /<LogonSession /g),
  });
}

function assertErrorBody(res: Res, status: number, what: string): void {
  assert.match(res.type, /xml/, `${what}: an XML Error body`);
  const e = parseXml(res.text).Error;
  assert.ok(e, `${what}: an Error body, got ${res.text.slice(0, 200)}`);
  assert.equal(String(e.StatusCode), String(status), what);
  assert.ok(String(e.Message).length > 0, what);
  assert.doesNotMatch(res.text, /\/work\/|node_modules|\bat [\w.]+ \(/, `${what}: no paths or stack in the Error`);
}

async function runCell(row: Row, c: Caller): Promise<string | undefined> {
  const t = target(row, c);
  const expected = row.expect[c];
  const mutating = row.method !== 'GET';
  const before = mutating && expected >= 400 ? await snapshot() : undefined;
  const res = await call(row.method, t.url, tokenOf(c), t.body);
  const what = `${row.method} ${t.url} as ${c}`;
  // Work a request started runs to its end before the next request, right or wrong, so rows do not collide.
  if (res.status === 202) await settle(taskIdOf(res.text));
  if (res.status !== expected) return `${c}: expected ${expected}, got ${res.status} (${res.text.slice(0, 160).replace(/\s+/g, ' ')})`;
  if (expected >= 400) {
    assertErrorBody(res, expected, what);
    if (before !== undefined) assert.equal(await snapshot(), before, `${what}: a refused request changed nothing`);
  }
  if (expected === 200 && t.shows) {
    const { present, absent } = t.shows(c);
    for (const p of present) if (!res.text.includes(p)) return `${c}: ${p.trim()} missing from ${res.text.slice(0, 200)}`;
    for (const a of absent) if (res.text.includes(a)) return `${c}: ${a.trim()} listed although outside the caller's scope or ownership`;
  }
  return undefined;
}

test('the matrix covers every route of /api/openapi.json, and no other', async () => {
  const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { security: unknown[] }>> };
  const routes = new Set<string>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) if (op.security.length > 0) routes.add(`${method.toUpperCase()} ${path}`);
  }
  const covered = new Set(ROWS.map((r) => `${r.method} ${r.route}`));
  assert.deepEqual([...routes].filter((r) => !covered.has(r)), [], 'routes without a row in the matrix');
  assert.deepEqual([...covered].filter((r) => !routes.has(r)), [], 'rows for routes the server does not have');
});

test('an account without a role cannot log on', async () => {
  const r = await logOn('norole', 'Norole-pass-1');
  assert.equal(r.status, 401);
});

for (const row of ROWS) {
  test(`${row.method} ${row.route} [${row.object}]`, { todo: row.todo }, async () => {
    const failures: string[] = [];
    for (const c of CALLERS) {
      const f = await runCell(row, c);
      if (f) failures.push(f);
    }
    assert.deepEqual(failures, [], failures.join('\n'));
  });
}

test('the backups the administrator started finish', async () => {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await call('GET', '/api/vmRestorePoints', admin());
    if ((r.text.match(/Type="VmRestorePointReference"/g) ?? []).length >= 4) break;
    if (Date.now() > deadline) assert.fail(`the started jobs did not back up both VMs: ${r.text.slice(0, 300)}`);
    await sleep(100);
  }
});
