import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readdirSync } from 'node:fs';
import { startServerProcess } from '../helpers/server-process.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';
import { cliOk } from '../helpers/cli.js';
import { EmClient } from '../helpers/em-client.js';

/** A GET with the path sent exactly as written (fetch would resolve `..` before sending it). */
function rawGet(base: string, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the server serves the built portal: / goes to /ui/, the page is revalidated, hashed assets are cached for good, nothing outside dist/ui is reachable', async (t) => {
  const server = await startServerProcess();
  cleanupOf(t).defer(() => server.stop());

  const root = await rawGet(server.http, '/');
  assert.equal(root.status, 302);
  assert.equal(root.headers.location, '/ui/');

  const page = await rawGet(server.http, '/ui/');
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.equal(page.headers['cache-control'], 'no-cache');
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'; script-src 'self'; style-src 'self'/);
  // Vite's build: the page loads its hashed bundle and stylesheet from /ui/assets/, and nothing from another origin.
  const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(assets.length >= 2, page.body);
  for (const a of assets) assert.match(a, /^\/ui\/assets\/[\w-]+\.(js|css)$/);
  assert.deepEqual(readdirSync('dist/ui/assets').sort(), assets.map((a) => a.slice('/ui/assets/'.length)).sort());

  for (const a of assets) {
    const r = await rawGet(server.http, a);
    assert.equal(r.status, 200, a);
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(String(r.headers['content-type']), a.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
  }

  for (const path of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/%2e%2e%2f%2e%2e%2fpackage.json', '/ui/assets/../../src/main.js', '/ui/..%5c..%5cpackage.json', '/ui/index.html%00.js', '/ui/nothing.js', '/ui/assets/']) {
    const r = await rawGet(server.http, path);
    assert.ok([400, 401, 404].includes(r.status), `${path}: ${r.status}`);
    assert.doesNotMatch(r.body, /"name": "openem"|"dependencies"/, path);
  }
});

test('GET /api/openem/currentAccount tells the caller their role and restore scope, so the portal offers only what the API allows', async (t) => {
  const dataDir = tempDir(cleanupOf(t), 'openem-account-');
  await cliOk(dataDir, ['user', 'add', 'ops', '--password-stdin', '--role', 'restore-operator', '--scope', 'vm:web01,db01'], { input: 'Ops-pass-1\n' });
  const server = await startServerProcess({ dataDir });
  cleanupOf(t).defer(() => server.stop());
  const admin = new EmClient(server.http, 'json');
  assert.equal((await admin.logOn()).status, 201);
  const me = await admin.get(`${server.http}/api/openem/currentAccount`);
  assert.equal(me.status, 200);
  assert.equal(me.body.UserName, 'admin');
  assert.equal(me.body.Role, 'Portal Administrator');
  assert.equal(me.body.AllVms, true);
  assert.equal(me.body.CanRestoreVms, true);
  assert.equal(me.body.CanReadReports, true);
  assert.equal(me.body.Type, 'openem:CurrentAccount');

  const ops = new EmClient(server.http, 'json');
  assert.equal((await ops.logOn('ops', 'Ops-pass-1')).status, 201);
  const scoped = await ops.get(`${server.http}/api/openem/currentAccount`);
  assert.equal(scoped.body.Role, 'Restore Operator');
  assert.equal(scoped.body.AllVms, false);
  assert.deepEqual(scoped.body.ScopeVms.map((v: { Name: string }) => v.Name), ['web01', 'db01']);
  assert.equal(scoped.body.CanReadReports, false);
  assert.equal(scoped.body.CanStopBackupSessions, false);
  // What the account says it may not do, the API refuses.
  assert.equal((await ops.get(`${server.http}/api/reports/summary`)).status, 403);

  // XML: openem's own namespace, never EM's.
  const xml = new EmClient(server.http, 'xml');
  await xml.logOn();
  const x = await xml.get(`${server.http}/api/openem/currentAccount`);
  assert.match(x.text, /<CurrentAccount xmlns="urn:openem:api:v1" Type="openem:CurrentAccount"/);
  assert.equal((await new EmClient(server.http, 'json').get(`${server.http}/api/openem/currentAccount`)).status, 401);
});
