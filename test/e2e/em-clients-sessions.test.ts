// Logon and logoff as real Enterprise Manager clients do them (issue #10 items 1 and 2, em-clients.md "Logon").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServerProcess, ADMIN_PASSWORD, type ServerProcess } from '../helpers/server-process.js';
import { cliOk } from '../helpers/cli.js';

let server: ServerProcess | undefined;
let base = '';

before(async () => {
  server = await startServerProcess();
  base = server.http;
  await cliOk(server.dataDir, ['user', 'add', 'olga', '--password-stdin', '--role', 'portal-user', '--scope', 'all'], { input: 'Olga-pass-1\n' });
});
after(async () => {
  assert.equal(await server?.stop(), 0);
});

const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** A JSON logon as the curl+jq scripts do it: they keep the body and never look at the response headers. */
async function logOnJson(user = 'admin', password = ADMIN_PASSWORD): Promise<{ SessionId: string; Href: string; Links: { Rel: string; Type?: string; Href: string }[] }> {
  const res = await fetch(`${base}/api/sessionMngr/?v=latest`, { method: 'POST', headers: { Authorization: basic(user, password), Accept: 'application/json' } });
  assert.equal(res.status, 201);
  return (await res.json()) as any;
}

async function getJson(path: string, token: string, how: 'header' | 'cookie' = 'header'): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(how === 'header' ? { 'X-RestSvcSessionId': token } : { Cookie: `X-RestSvcSessionId=${token}` }) };
  const res = await fetch(path.startsWith('http') ? path : `${base}${path}`, { headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

test('a script that sends base64(SessionId) from the JSON logon body as X-RestSvcSessionId is served', async () => {
  const s = await logOnJson();
  assert.match(s.SessionId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'SessionId is a v4 GUID');
  const token = b64(s.SessionId);
  const r = await getJson('/api/logonSessions', token);
  assert.equal(r.status, 200);
  assert.equal(r.body.LogonSessions[0].SessionId, s.SessionId);
  // The same computed token works as the cookie too, as EM's Set-Cookie carries it.
  assert.equal((await getJson('/api/backupServers', token, 'cookie')).status, 200);
  // An upper-cased GUID (some scripts normalise it) names the same session.
  assert.equal((await getJson('/api/backupServers', b64(s.SessionId.toUpperCase()))).status, 200);
});

test('base64 of a GUID that is no session, or of another session\'s listed id, gets 401', async () => {
  assert.equal((await getJson('/api/logonSessions', b64(randomUUID()))).status, 401);
  const olga = await logOnJson('olga', 'Olga-pass-1');
  const admin = await logOnJson();
  const list = await getJson('/api/logonSessions', b64(admin.SessionId));
  assert.equal(list.status, 200);
  const olgaListed = list.body.LogonSessions.find((l: any) => l.Href === olga.Href);
  assert.ok(olgaListed, 'the administrator sees olga\'s session');
  assert.notEqual(olgaListed.SessionId, olga.SessionId, 'the list does not hand out another session\'s secret');
  assert.equal((await getJson('/api/logonSessions', b64(olgaListed.SessionId))).status, 401);
  assert.equal((await getJson('/api/logonSessions', b64(olga.Href.split('/').pop()!))).status, 401, 'the URL id is not a token');
});

test('with two sessions open, LogonSessions[0] is the caller\'s own; deleting its Delete link logs the caller off only', async () => {
  const first = await logOnJson();
  const second = await logOnJson();
  for (const [me, other] of [[second, first], [first, second]]) {
    const list = await getJson('/api/logonSessions', b64(me.SessionId));
    assert.equal(list.status, 200);
    assert.ok(list.body.LogonSessions.length >= 2);
    assert.equal(list.body.LogonSessions[0].SessionId, me.SessionId);
    assert.equal(list.body.LogonSessions[0].Href, me.Href);
    assert.ok(list.body.LogonSessions.some((l: any) => l.Href === other.Href));
  }
  const list = await getJson('/api/logonSessions', b64(second.SessionId));
  const del = list.body.LogonSessions[0].Links.find((l: any) => l.Rel === 'Delete');
  const res = await fetch(del.Href, { method: 'DELETE', headers: { 'X-RestSvcSessionId': b64(second.SessionId) } });
  assert.equal(res.status, 204);
  assert.equal((await getJson('/api/logonSessions', b64(second.SessionId))).status, 401, 'the caller is logged off');
  assert.equal((await getJson('/api/logonSessions', b64(first.SessionId))).status, 200, 'the other session lives on');
});

test('a client that logs off with DELETE /logonSessions/{SessionId} from its logon body ends its own session', async () => {
  const s = await logOnJson('olga', 'Olga-pass-1');
  const token = b64(s.SessionId);
  const one = await getJson(`/api/logonSessions/${s.SessionId}`, token);
  assert.equal(one.status, 200);
  assert.equal(one.body.Href, s.Href);
  const res = await fetch(`${base}/api/logonSessions/${s.SessionId}`, { method: 'DELETE', headers: { 'X-RestSvcSessionId': token } });
  assert.equal(res.status, 204);
  assert.equal((await getJson('/api/logonSessions', token)).status, 401);
});
