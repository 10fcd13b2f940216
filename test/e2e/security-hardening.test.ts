// Issue #6: lockout of repeated failed logons, sessions ending with their account, role limits on logon
// sessions, deny by default on every route, TLS and headers, the audit trail and `openem audit`.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { startServerProcess, ADMIN_PASSWORD, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, parseXml, waitFor } from '../helpers/em-client.js';

let server: ServerProcess;
const FAILURE_LIMIT = 3;

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [resolve('dist/src/main.js'), ...args], { input, env: { ...process.env, OPENEM_DATA_DIR: server.dataDir }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

before(async () => {
  server = await startServerProcess({ env: { OPENEM_LOGON_FAILURE_LIMIT: String(FAILURE_LIMIT), OPENEM_LOGON_LOCKOUT_SECONDS: '600', OPENEM_MAX_SESSIONS_PER_ACCOUNT: '4' } });
  cli(['user', 'add', 'olivia', '--password-stdin', '--role', 'restore-operator', '--scope', 'vm:web01'], 'olivia-pw\n');
  cli(['user', 'add', 'paul', '--password-stdin', '--role', 'portal-user', '--scope', 'all'], 'paul-pw\n');
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

/** A logon from a chosen loopback address (127.0.0.0/8 all reaches the server on 127.0.0.1). */
function logonFrom(localAddress: string, user: string, password: string): Promise<{ status: number; headers: Record<string, unknown>; text: string; ms: number }> {
  const { hostname, port } = new URL(server.http);
  const started = Date.now();
  return new Promise((resolveResponse, reject) => {
    const req = request(
      { host: hostname, port, localAddress, method: 'POST', path: '/api/sessionMngr/?v=latest', headers: { Authorization: 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64') } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolveResponse({ status: res.statusCode!, headers: res.headers, text, ms: Date.now() - started }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('failed logons for one account are slowed, then refused with 429 even with the right password', async () => {
  const answers = [];
  for (let i = 0; i < FAILURE_LIMIT; i++) answers.push(await logonFrom('127.0.0.2', 'admin', 'wrong'));
  assert.deepEqual(answers.map((a) => a.status), [401, 401, 401]);
  assert.ok(answers[2].ms >= 150, `the third failure was slowed (${answers[2].ms} ms)`);
  const locked = await logonFrom('127.0.0.2', 'admin', ADMIN_PASSWORD);
  assert.equal(locked.status, 429);
  assert.ok(Number(locked.headers['retry-after']) > 0);
  assert.equal(parseXml(locked.text).Error.StatusCode, '429');
  // The account is locked from any address; other accounts from a fresh address are not.
  assert.equal((await logonFrom('127.0.0.3', 'admin', ADMIN_PASSWORD)).status, 429);
  assert.equal((await logonFrom('127.0.0.3', 'paul', 'paul-pw')).status, 201);
});

test('a lockout answers an unknown account exactly as an existing one', async () => {
  for (let i = 0; i < FAILURE_LIMIT; i++) await logonFrom('127.0.0.4', 'ghost', 'wrong');
  const ghost = await logonFrom('127.0.0.4', 'ghost', 'wrong');
  const admin = await logonFrom('127.0.0.5', 'admin', 'wrong');
  assert.equal(ghost.status, admin.status);
  assert.equal(parseXml(ghost.text).Error.Message, parseXml(admin.text).Error.Message);
});

test('failed logons from one address for many names lock that address', async () => {
  for (let i = 0; i < FAILURE_LIMIT; i++) assert.equal((await logonFrom('127.0.0.6', `name${i}`, 'wrong')).status, 401);
  assert.equal((await logonFrom('127.0.0.6', 'paul', 'paul-pw')).status, 429);
  assert.equal((await logonFrom('127.0.0.7', 'paul', 'paul-pw')).status, 201);
});

test('open logon sessions per account are bounded; the refusal does not count as a failed logon', async () => {
  // paul already has two sessions from the tests above.
  const c = new EmClient(server.http);
  assert.equal((await c.logOn('paul', 'paul-pw')).status, 201);
  assert.equal((await c.logOn('paul', 'paul-pw')).status, 201);
  for (let i = 0; i < FAILURE_LIMIT; i++) assert.equal((await c.logOn('paul', 'paul-pw')).status, 429);
  const sessions = await c.get(`${server.http}/api/logonSessions`);
  // The caller's own session is listed first; it is deleted last, so the others can still be deleted with it.
  for (const s of [sessions.body.LogonSessions.LogonSession].flat().reverse()) assert.equal((await c.request('DELETE', s.Href)).status, 204);
  assert.equal((await logonFrom('127.0.0.8', 'paul', 'paul-pw')).status, 201);
});

test('a Portal User sees only its own logon sessions; a Portal Administrator sees all', async () => {
  const admin = new EmClient(server.http);
  assert.equal((await logonFrom('127.0.0.9', 'admin', ADMIN_PASSWORD)).status, 429, 'admin is still locked from the first test');
  const olivia = new EmClient(server.http);
  assert.equal((await olivia.logOn('olivia', 'olivia-pw')).status, 201);
  const oliviaId = parseXml((await olivia.get(`${server.http}/api/logonSessions`)).text).LogonSessions.LogonSession;
  const own = [oliviaId].flat();
  assert.ok(own.every((s: any) => s.UserName === 'olivia'));
  const paul = new EmClient(server.http);
  assert.equal((await paul.logOn('paul', 'paul-pw')).status, 201);
  const paulSession = [parseXml((await paul.get(`${server.http}/api/logonSessions`)).text).LogonSessions.LogonSession].flat()[0];
  assert.equal((await olivia.get(paulSession.Href)).status, 404, "another account's session is not found, not forbidden");
  assert.equal((await olivia.request('DELETE', paulSession.Href)).status, 404);
  assert.equal((await paul.get(paulSession.Href)).status, 200);
  void admin;
});

test("an account's sessions end when it is removed or its password changes (through the CLI, another process)", async () => {
  cli(['user', 'add', 'quinn', '--password-stdin', '--role', 'portal-user'], 'quinn-1\n');
  const q = new EmClient(server.https);
  assert.equal((await q.logOn('quinn', 'quinn-1')).status, 201);
  cli(['user', 'passwd', 'quinn', '--password-stdin'], 'quinn-2\n');
  await waitFor('the session to end after the password change', async () => ((await q.get(`${server.https}/api/logonSessions`)).status === 401 ? true : undefined), 5000);
  assert.equal((await q.logOn('quinn', 'quinn-2')).status, 201);
  cli(['user', 'rm', 'quinn']);
  await waitFor('the session to end after removal', async () => ((await q.get(`${server.https}/api/logonSessions`)).status === 401 ? true : undefined), 5000);
});

test('every non-public route refuses a request without a session, or with an unknown one, with 401', async () => {
  const doc = (await (await fetch(`${server.http}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { security: unknown[] }>> };
  let checked = 0;
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (op.security.length === 0) continue;
      const url = server.http + path.replace(/\{[^}]+\}/g, 'x1');
      for (const token of [undefined, Buffer.alloc(32, 3).toString('base64')]) {
        const res = await fetch(url, { method: method.toUpperCase(), headers: token ? { 'X-RestSvcSessionId': token } : {} });
        assert.equal(res.status, 401, `${method.toUpperCase()} ${path} ${token ? 'unknown token' : 'no token'}`);
        assert.equal(res.headers.get('www-authenticate'), 'Basic Realm=RestSvc');
        await res.arrayBuffer();
      }
      checked++;
    }
  }
  assert.ok(checked >= 3, `checked ${checked} routes`);
});

test('HTTPS refuses TLS older than 1.2 and answers with secure headers', async () => {
  const { hostname, port } = new URL(server.https);
  const handshake = (maxVersion: 'TLSv1.1' | 'TLSv1.2') =>
    new Promise<string>((res) => {
      const s = tlsConnect({ host: hostname, port: Number(port), rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion, ciphers: 'DEFAULT@SECLEVEL=0' }, () => {
        const v = s.getProtocol() ?? '';
        s.end();
        res(v);
      });
      s.on('error', () => res('refused'));
    });
  assert.equal(await handshake('TLSv1.1'), 'refused');
  assert.equal(await handshake('TLSv1.2'), 'TLSv1.2');
  const r = await fetch(`${server.https}/api/`);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.match(r.headers.get('strict-transport-security') ?? '', /max-age=\d+/);
  const logon = await new EmClient(server.https).logOn('paul', 'paul-pw');
  assert.match(logon.headers.get('set-cookie') ?? '', /; HttpOnly.*; Secure|; Secure.*; HttpOnly/);
});

test('the audit trail names logons, failures, logoffs and refusals, with address and never a secret; `openem audit` prints it', async () => {
  const c = new EmClient(server.http);
  const r = await c.logOn('olivia', 'olivia-pw');
  const token = c.token!;
  const href = parseXml(r.text).LogonSession.Href as string;
  assert.equal((await c.request('DELETE', href)).status, 204);
  await fetch(`${server.http}/api/logonSessions`);
  const lines = cli(['audit', '--since', '1h', '--json'])
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const has = (f: (e: any) => boolean, what: string) => assert.ok(lines.some(f), what);
  has((e) => e.who === 'olivia' && e.what === 'logon' && e.result === 'success' && e.address === '127.0.0.1', 'logon success');
  has((e) => e.who === 'admin' && e.what === 'logon' && e.result === 'failure' && e.address === '127.0.0.2', 'logon failure');
  has((e) => e.who === 'admin' && e.what === 'logon' && e.result === 'refused', 'lockout refusal');
  has((e) => e.who === 'olivia' && e.what === 'logoff' && e.target.includes(href.split('/').pop()), 'logoff');
  has((e) => e.what === 'refused' && e.result === 'refused' && e.target === 'GET /api/logonSessions' && /401/.test(e.detail), '401 refusal');
  const olivia = cli(['audit', '--user', 'olivia']);
  assert.ok(olivia.trim().split('\n').every((l) => l.split('\t')[1] === 'olivia'));
  const all = cli(['audit']);
  for (const secret of [token, encodeURIComponent(token), 'olivia-pw', 'paul-pw', ADMIN_PASSWORD, Buffer.from('olivia:olivia-pw').toString('base64')]) {
    assert.ok(!all.includes(secret), 'the audit trail holds no password or token');
  }
});
