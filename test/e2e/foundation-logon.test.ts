// The entry point and logon steps of seed 003 over HTTP and HTTPS, XML and JSON (issue #2 §3, em-api.md §1).
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { startServerProcess, ADMIN_PASSWORD, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, linksOf, type Format } from '../helpers/em-client.js';

const SEED_AUTH = 'Basic dXNlcm5hbWU6cGFzc3dvcmQ='; // username:password, as in seed 003
const VERSIONS = ['latest', 'v1_4', 'v1_5', 'v1_6', 'v1_7'];

let server: ServerProcess;

before(async () => {
  server = await startServerProcess();
  // The seed's account, added the way an operator would: through the CLI, on the same data directory.
  const r = spawnSync(process.execPath, [resolve('dist/src/main.js'), 'user', 'add', 'username', '--password-stdin', '--role', 'restore-operator', '--scope', 'all'], {
    input: 'password\n',
    env: { ...process.env, OPENEM_DATA_DIR: server.dataDir, OPENEM_ADMIN_PASSWORD: ADMIN_PASSWORD },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

/** The root of a parsed body: XML wraps it in its element name, JSON does not. */
function rootOf(body: any, format: Format, name: string): any {
  if (format === 'json') return body;
  assert.ok(body[name], `expected <${name}>, got ${Object.keys(body ?? {}).join(',')}`);
  // The test client parses some element names as arrays wherever they appear.
  return Array.isArray(body[name]) ? body[name][0] : body[name];
}

function assertError(r: { status: number; body: any; headers: Headers }, format: Format, status: number) {
  assert.equal(r.status, status);
  assert.match(r.headers.get('content-type') ?? '', format === 'json' ? /application\/json/ : /application\/xml/);
  const e = rootOf(r.body, format, 'Error');
  assert.equal(Number(e.StatusCode), status);
  assert.ok(typeof e.Message === 'string' && e.Message.length > 0);
  if (format === 'json') {
    // EM's JSON Error: every property present, Status null.
    assert.deepEqual(Object.keys(e), ['FirstChanceExceptionMessage', 'Message', 'StackTrace', 'Status', 'StatusCode']);
    assert.equal(e.Status, null);
    assert.equal(e.StackTrace, null);
  } else {
    assert.ok(typeof e.Status === 'string' && e.Status.length > 0);
    assert.equal(e.StackTrace, undefined);
  }
}

for (const scheme of ['http', 'https'] as const) {
  for (const format of ['xml', 'json'] as Format[]) {
    describe(`${scheme} ${format}`, () => {
      const base = () => server[scheme];

      test('GET /api/ answers the EnterpriseManager entry point with its links and supported versions', async () => {
        const c = new EmClient(base(), format);
        const r = await c.get(`${base()}/api/`);
        assert.equal(r.status, 200);
        if (format === 'xml') assert.match(r.text, /<EnterpriseManager xmlns="http:\/\/www\.veeam\.com\/ent\/v1\.0" Href="[^"]+\/api\/" Type="EnterpriseManager">/);
        const em = rootOf(r.body, format, 'EnterpriseManager');
        assert.equal(em.Href, `${base()}/api/`);
        assert.equal(findLink(em, 'Down', 'LogonSessionList')?.Href, `${base()}/api/logonSessions`);
        assert.equal(findLink(em, 'Create', 'LogonSession')?.Href, `${base()}/api/sessionMngr/?v=latest`);
        const versions = format === 'json' ? em.SupportedVersions : em.SupportedVersions.SupportedVersion;
        assert.deepEqual(versions.map((v: any) => v.Name), ['v1_4', 'v1_5', 'v1_6', 'v1_7']);
        for (const v of versions) assert.equal(findLink(v, 'Create', 'LogonSession')?.Href, `${base()}/api/sessionMngr/?v=${v.Name}`);
      });

      for (const version of VERSIONS) {
        test(`logon with v=${version} answers 201 with the token in header and cookie and a LogonSession home page`, async () => {
          const c = new EmClient(base(), format);
          const r = await c.logOn('admin', ADMIN_PASSWORD, version);
          assert.equal(r.status, 201);
          const token = r.headers.get('x-restsvcsessionid')!;
          assert.match(token, /^[A-Za-z0-9+/]+=*$/);
          const cookie = r.headers.get('set-cookie')!;
          assert.ok(cookie.startsWith(`X-RestSvcSessionId=${encodeURIComponent(token)}; Path=/api`), cookie);
          assert.match(cookie, /HttpOnly/);
          assert.equal(/Secure/.test(cookie), scheme === 'https');
          const s = rootOf(r.body, format, 'LogonSession');
          assert.equal(s.Type, 'LogonSession');
          assert.equal(s.UserName, 'admin');
          // The token is base64 of SessionId, a random v4 GUID; the session's URL names it by a separate public id.
          assert.match(s.SessionId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
          assert.equal(Buffer.from(token, 'base64').toString('utf8'), s.SessionId);
          assert.match(s.Href, new RegExp(`^${base()}/api/logonSessions/[0-9a-f-]{36}$`));
          assert.ok(!s.Href.includes(s.SessionId), 'the URL does not carry the secret');
          assert.equal(r.headers.get('location'), s.Href);
          assert.equal(findLink(s, 'Up', 'EnterpriseManager')?.Href, `${base()}/api/`);
          assert.equal(findLink(s, 'Down', 'VmRestorePointReferenceList')?.Href, `${base()}/api/vmRestorePoints`);
          assert.equal(findLink(s, 'Delete')?.Href, s.Href);
          assert.ok(linksOf(s).filter((l) => l.Rel === 'Down').length >= 5);
        });
      }

      test("logon with the seed's Authorization header (username:password, v1_6) answers 201", async () => {
        const c = new EmClient(base(), format);
        const r = await c.request('POST', `${base()}/api/sessionMngr/?v=v1_6`, { headers: { Authorization: SEED_AUTH } });
        assert.equal(r.status, 201);
        assert.equal(rootOf(r.body, format, 'LogonSession').UserName, 'username');
      });

      test('GET /api/logonSessions and /{ID} show the session; DELETE logs off with 204 and the token then gets 401', async () => {
        const c = new EmClient(base(), format);
        const s = rootOf((await c.logOn()).body, format, 'LogonSession');
        const list = await c.get(`${base()}/api/logonSessions`);
        assert.equal(list.status, 200);
        const items = format === 'json' ? list.body.LogonSessions : list.body.LogonSessions.LogonSession;
        assert.ok(items.some((i: any) => i.SessionId === s.SessionId));
        const one = await c.get(s.Href);
        assert.equal(one.status, 200);
        assert.equal(rootOf(one.body, format, 'LogonSession').SessionId, s.SessionId);
        const del = await c.request('DELETE', s.Href);
        assert.equal(del.status, 204);
        assert.equal(del.text, '');
        const again = await c.get(`${base()}/api/logonSessions`);
        assertError(again, format, 401);
        assert.equal(again.headers.get('www-authenticate'), 'Basic Realm=RestSvc');
      });

      test('a missing or unknown token gets 401 with WWW-Authenticate: Basic Realm=RestSvc and an Error body', async () => {
        const c = new EmClient(base(), format);
        const missing = await c.get(`${base()}/api/logonSessions`);
        assertError(missing, format, 401);
        assert.equal(missing.headers.get('www-authenticate'), 'Basic Realm=RestSvc');
        c.token = Buffer.alloc(32, 7).toString('base64');
        const unknown = await c.get(`${base()}/api/logonSessions`);
        assertError(unknown, format, 401);
        assert.equal(unknown.headers.get('www-authenticate'), 'Basic Realm=RestSvc');
      });

      test('a wrong password gets 401 with the same message as an unknown account', async () => {
        const c = new EmClient(base(), format);
        const wrong = await c.logOn('admin', 'not-the-password');
        const nobody = await c.logOn('nobody-here', 'not-the-password');
        assertError(wrong, format, 401);
        assertError(nobody, format, 401);
        assert.equal(wrong.headers.get('www-authenticate'), 'Basic Realm=RestSvc');
        assert.equal(rootOf(wrong.body, format, 'Error').Message, rootOf(nobody.body, format, 'Error').Message);
      });

      test('when both cookie and header carry a token, the cookie wins', async () => {
        const c = new EmClient(base(), format);
        await c.logOn();
        const good = c.token!;
        const bogus = Buffer.alloc(32, 9).toString('base64');
        const cookieBad = await c.request('GET', `${base()}/api/logonSessions`, { headers: { Cookie: `X-RestSvcSessionId=${encodeURIComponent(bogus)}` } });
        assertError(cookieBad, format, 401);
        c.token = bogus;
        const cookieGood = await c.request('GET', `${base()}/api/logonSessions`, { headers: { Cookie: `other=1; X-RestSvcSessionId=${encodeURIComponent(good)}` } });
        assert.equal(cookieGood.status, 200);
      });
    });
  }
}

test('the OpenAPI document lists the logon routes', async () => {
  const r = await fetch(`${server.http}/api/openapi.json`);
  assert.equal(r.status, 200);
  const doc = (await r.json()) as any;
  assert.ok(doc.paths['/api/sessionMngr/']?.post);
  assert.ok(doc.paths['/api/logonSessions/{id}']?.delete);
});

test('healthz, readyz and metrics answer without a session', async () => {
  assert.equal((await fetch(`${server.http}/healthz`)).status, 200);
  assert.equal((await fetch(`${server.http}/readyz`)).status, 200);
  const m = await fetch(`${server.http}/metrics`);
  assert.equal(m.status, 200);
  assert.match(await m.text(), /openem_http_requests_total/);
});

test('npx openem --help works from the built JavaScript', () => {
  const r = spawnSync('npx', ['--no-install', 'openem', '--help'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /serve/);
  assert.match(r.stdout, /user/);
});
