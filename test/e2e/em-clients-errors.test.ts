// Error bodies as Enterprise Manager sends them, and its 400 for an ID that is not a GUID (issue #10 item 6).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient } from '../helpers/em-client.js';

let server: ServerProcess | undefined;
let token = '';

before(async () => {
  server = await startServerProcess();
  const c = new EmClient(server.http);
  assert.equal((await c.logOn()).status, 201);
  token = c.token!;
});
after(async () => {
  assert.equal(await server?.stop(), 0);
});

async function call(method: string, path: string, accept: 'json' | 'xml', withSession = true) {
  const headers: Record<string, string> = { Accept: `application/${accept}` };
  if (withSession) headers['X-RestSvcSessionId'] = token;
  const res = await fetch(`${server!.http}${path}`, { method, headers });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

const UNKNOWN = '00000000-0000-0000-0000-000000000000';

test('a JSON client gets {"FirstChanceExceptionMessage":null,"Message":…,"StackTrace":null,"Status":null,"StatusCode":404}', async () => {
  const r = await call('GET', `/api/jobs/${UNKNOWN}?format=Entity`, 'json');
  assert.equal(r.status, 404);
  assert.match(r.type, /application\/json/);
  const body = JSON.parse(r.text);
  // Property for property and in EM's order, as a strict binder generated from EM's answers expects.
  assert.deepEqual(Object.keys(body), ['FirstChanceExceptionMessage', 'Message', 'StackTrace', 'Status', 'StatusCode']);
  assert.deepEqual({ ...body, Message: undefined }, { FirstChanceExceptionMessage: null, Message: undefined, StackTrace: null, Status: null, StatusCode: 404 });
  assert.equal(typeof body.Message, 'string');
  assert.ok(body.Message.length > 0);
});

test('an XML client gets <Error Message StatusCode Status/> in the EM namespace', async () => {
  const r = await call('GET', `/api/jobs/${UNKNOWN}`, 'xml');
  assert.equal(r.status, 404);
  assert.match(r.text, /^<\?xml version="1\.0" encoding="utf-8"\?>\n<Error xmlns="http:\/\/www\.veeam\.com\/ent\/v1\.0" Message="[^"]+" StatusCode="404" Status="NotFound" \/>\n$/);
});

/** Every route with a GUID `{ID}`, each given `99999`, and the type EM names in its answer. */
const NOT_A_GUID: [string, string, string][] = [
  ['GET', '/api/jobs/99999', 'Job'],
  ['POST', '/api/jobs/99999?action=start', 'Job'],
  ['GET', '/api/backups/99999?format=Entity', 'Backup'],
  ['GET', '/api/backups/99999/restorePoints', 'Backup'],
  ['GET', '/api/restorePoints/99999', 'RestorePoint'],
  ['GET', '/api/restorePoints/99999/vmRestorePoints', 'RestorePoint'],
  ['GET', '/api/vmRestorePoints/99999?format=Entity', 'VmRestorePoint'],
  ['POST', '/api/vmRestorePoints/99999?action=restore', 'VmRestorePoint'],
  ['GET', '/api/vmRestorePoints/99999/mounts', 'VmRestorePoint'],
  ['GET', '/api/backupServers/99999', 'BackupServer'],
  ['GET', '/api/hierarchyRoots/99999', 'HierarchyRoot'],
  ['GET', '/api/restoreSessions/99999?format=Entity', 'RestoreSession'],
  ['GET', '/api/logonSessions/99999', 'LogonSession'],
  ['DELETE', '/api/logonSessions/99999', 'LogonSession'],
  ['GET', '/api/catalog/vms/somevm/vmRestorePoints/99999', 'VmRestorePoint'],
];

test('an ID that is not a GUID gets 400 " ID 99999 is invalid. Type: <Type>" on every {ID} route, in both formats', async () => {
  for (const [method, path, type] of NOT_A_GUID) {
    for (const format of ['json', 'xml'] as const) {
      const r = await call(method, path, format);
      assert.equal(r.status, 400, `${method} ${path} (${format}): ${r.text}`);
      const message = format === 'json' ? JSON.parse(r.text).Message : /Message="([^"]*)"/.exec(r.text)?.[1];
      assert.equal(message, ` ID 99999 is invalid. Type: ${type}`, `${method} ${path} (${format})`);
      if (format === 'json') assert.equal(JSON.parse(r.text).StatusCode, 400);
    }
  }
});

test('without a session the same request is 401, and IDs that are not GUIDs by nature stay 404', async () => {
  assert.equal((await call('GET', '/api/jobs/99999', 'json', false)).status, 401);
  assert.equal((await call('GET', '/api/tasks/task-99999', 'json')).status, 404);
  assert.equal((await call('GET', '/api/catalog/vms/99999', 'json')).status, 404);
});
