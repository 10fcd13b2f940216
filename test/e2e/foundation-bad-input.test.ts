// Issue #2 "Bad input must get a clear error and change nothing": each bad input gets its status with an
// Enterprise Manager Error body in the negotiated format; afterwards the server still serves and the store
// holds exactly what it held before.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { startServerProcess, ADMIN_PASSWORD, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, parseXml, type Format } from '../helpers/em-client.js';

let server: ServerProcess;
before(async () => {
  server = await startServerProcess();
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

const ADMIN_BASIC = 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<LoginSpec><VMwareSSOToken>&lol9;</VMwareSSOToken></LoginSpec>`;
const EXTERNAL_ENTITY = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><LoginSpec><VMwareSSOToken>&xxe;</VMwareSSOToken></LoginSpec>`;

interface BadInput {
  name: string;
  method: string;
  path: string;
  /** Needs a logon session (routes other than the entry point and logon). */
  session?: boolean;
  headers?: Record<string, string>;
  body?: string | Buffer;
  status: number;
  /** The Error message must mention this. */
  mentions?: RegExp;
}

const LOGON = '/api/sessionMngr/?v=latest';
const CASES: BadInput[] = [
  { name: 'malformed XML', method: 'POST', path: LOGON, headers: { Authorization: ADMIN_BASIC, 'Content-Type': 'application/xml' }, body: '<LoginSpec><VMwareSSOToken>', status: 400, mentions: /Malformed XML/ },
  { name: 'malformed JSON', method: 'POST', path: LOGON, headers: { Authorization: ADMIN_BASIC, 'Content-Type': 'application/json' }, body: '{"VMwareSSOToken": ', status: 400, mentions: /Malformed JSON/ },
  { name: 'XML with the wrong root element', method: 'POST', path: LOGON, headers: { Authorization: ADMIN_BASIC, 'Content-Type': 'application/xml' }, body: '<Nope/>', status: 400, mentions: /LoginSpec/ },
  {
    name: 'XML elements out of schema order',
    method: 'POST',
    path: LOGON,
    headers: { Authorization: ADMIN_BASIC, 'Content-Type': 'application/xml' },
    body: '<LoginSpec xmlns="http://www.veeam.com/ent/v1.0"><TenantCredentials><Username>a</Username><Password>b</Password></TenantCredentials><VMwareSSOToken>t</VMwareSSOToken></LoginSpec>',
    status: 400,
    mentions: /VMwareSSOToken/,
  },
  { name: 'XML missing a required element', method: 'POST', path: LOGON, headers: { Authorization: ADMIN_BASIC, 'Content-Type': 'application/xml' }, body: '<LoginSpec><TenantCredentials><Username>a</Username></TenantCredentials></LoginSpec>', status: 400, mentions: /Password/ },
  { name: 'XML billion laughs (DOCTYPE with entities)', method: 'POST', path: LOGON, headers: { Authorization: ADMIN_BASIC, 'Content-Type': 'application/xml' }, body: BILLION_LAUGHS, status: 400, mentions: /DOCTYPE/ },
  { name: 'XML external entity', method: 'POST', path: LOGON, headers: { Authorization: ADMIN_BASIC, 'Content-Type': 'application/xml' }, body: EXTERNAL_ENTITY, status: 400, mentions: /DOCTYPE/ },
  { name: 'body over the 1 MiB limit', method: 'POST', path: LOGON, headers: { Authorization: ADMIN_BASIC, 'Content-Type': 'application/json' }, body: Buffer.alloc(1024 * 1024 + 1, 0x20), status: 413 },
  { name: 'unsupported media type', method: 'POST', path: LOGON, headers: { Authorization: ADMIN_BASIC, 'Content-Type': 'text/plain' }, body: 'hello', status: 415 },
  { name: 'Basic credentials that are not base64', method: 'POST', path: LOGON, headers: { Authorization: 'Basic !!!not-base64!!!' }, status: 401 },
  { name: 'Basic credentials without a colon', method: 'POST', path: LOGON, headers: { Authorization: 'Basic ' + Buffer.from('adminonly').toString('base64') }, status: 401 },
  { name: 'a non-Basic Authorization scheme', method: 'POST', path: LOGON, headers: { Authorization: 'Bearer abc' }, status: 401 },
  { name: 'no Authorization header', method: 'POST', path: LOGON, status: 401 },
  { name: 'unknown API version', method: 'POST', path: '/api/sessionMngr/?v=v9_9', headers: { Authorization: ADMIN_BASIC }, status: 400, mentions: /v9_9/ },
  { name: 'a no-longer-supported API version', method: 'POST', path: '/api/sessionMngr/?v=v1_1', headers: { Authorization: ADMIN_BASIC }, status: 400 },
  { name: 'single sign-on logon', method: 'POST', path: LOGON, headers: { Authorization: ADMIN_BASIC, 'Content-Type': 'application/json' }, body: '{"VMwareSSOToken":"abc"}', status: 501 },
  { name: 'unknown route', method: 'GET', path: '/api/noSuchThing', session: true, status: 404 },
  { name: 'unknown route without a session', method: 'GET', path: '/api/noSuchThing', status: 401 },
  { name: 'wrong method on a known route', method: 'PUT', path: '/api/logonSessions', session: true, status: 405 },
  { name: 'wrong method on the entry point', method: 'DELETE', path: '/api/', session: true, status: 405 },
  { name: 'unknown logon session id', method: 'GET', path: '/api/logonSessions/00000000-0000-0000-0000-000000000000', session: true, status: 404 },
  { name: 'an id that is not a GUID', method: 'GET', path: '/api/jobs/99999', session: true, status: 400, mentions: /^ ?ID 99999 is invalid\. Type: Job$/ },
  { name: 'URL longer than the limit', method: 'GET', path: '/api/?' + 'a'.repeat(9000), status: 414 },
];

/** Every table's rows, so a test can prove a bad request changed nothing. The audit trail is expected to grow. */
function storeSnapshot(): Record<string, unknown[]> {
  const db = new BetterSqlite3(join(server.dataDir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("select name from sqlite_master where type='table' and name not like 'sqlite_%' and name <> 'audit' order by name").all() as { name: string }[];
    // A session's last use is written every few seconds by any authenticated request (refused or not): that is
    // the session being used, not something a bad input changed.
    const rows = (name: string) => (db.prepare(`select * from "${name}"`).all() as Record<string, unknown>[]).map((r) => (name === 'logon_sessions' ? { ...r, last_seen_at: undefined } : r));
    return Object.fromEntries(tables.map((t) => [t.name, rows(t.name)]));
  } finally {
    db.close();
  }
}

async function send(c: BadInput, format: Format, token?: string) {
  const headers: Record<string, string> = { Accept: format === 'json' ? 'application/json' : 'application/xml', ...c.headers };
  if (c.session && token) headers['X-RestSvcSessionId'] = token;
  const res = await fetch(server.https + c.path, { method: c.method, headers, body: typeof c.body === 'string' || c.body === undefined ? c.body : new Uint8Array(c.body) });
  return { res, text: await res.text() };
}

test('every bad input gets its status and an Error body in the negotiated format, and changes nothing', async () => {
  const admin = new EmClient(server.https);
  assert.equal((await admin.logOn()).status, 201);
  const before = storeSnapshot();
  for (const format of ['xml', 'json'] as Format[]) {
    for (const c of CASES) {
      const started = Date.now();
      const { res, text } = await send(c, format, admin.token);
      const what = `${c.name} (${format})`;
      assert.equal(res.status, c.status, `${what}: ${text}`);
      assert.ok(Date.now() - started < 5000, `${what} answered quickly`);
      assert.match(res.headers.get('content-type') ?? '', format === 'json' ? /application\/json/ : /application\/xml/, what);
      const e = format === 'json' ? JSON.parse(text) : parseXml(text).Error;
      assert.equal(Number(e.StatusCode), c.status, what);
      assert.ok(e.Message, what);
      // EM's JSON Error carries Status null; the XSD makes it a required attribute in XML.
      if (format === 'json') assert.equal(e.Status, null, what);
      else assert.ok(e.Status, what);
      if (c.mentions) assert.match(e.Message, c.mentions, what);
      if (c.status === 401) assert.equal(res.headers.get('www-authenticate'), 'Basic Realm=RestSvc', what);
      assert.doesNotMatch(text, /root:x:0|\/work\/|node_modules|at .*\.js:\d+/, `${what}: no file contents, host paths or stack traces`);
    }
  }
  assert.deepEqual(storeSnapshot(), before, 'the store is unchanged');
  // Still serving: the entry point answers and logon still works.
  assert.equal((await fetch(`${server.http}/api/`)).status, 200);
  assert.equal((await new EmClient(server.http).logOn()).status, 201);
});

test('a deleted session reused gets 401 and stays deleted', async () => {
  const c = new EmClient(server.http);
  const r = await c.logOn();
  assert.equal(r.status, 201, r.text);
  const root = parseXml(r.text).LogonSession;
  const href = (Array.isArray(root) ? root[0] : root).Href as string;
  assert.equal((await c.request('DELETE', href)).status, 204);
  const again = await c.request('DELETE', href);
  assert.equal(again.status, 401);
  assert.equal(again.headers.get('www-authenticate'), 'Basic Realm=RestSvc');
  assert.equal((await c.get(`${server.http}/api/logonSessions`)).status, 401);
});

test('a path with malformed percent-encoding gets 400 with an Error body', async () => {
  const res = await fetch(`${server.http}/api/logonSessions/%E0%A4%A`, { headers: { Accept: 'application/xml' } });
  assert.equal(res.status, 400);
  assert.match(res.headers.get('content-type') ?? '', /application\/xml/);
  assert.equal(Number(parseXml(await res.text()).Error.StatusCode), 400);
});
