import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, openemDetails, waitFor } from '../helpers/em-client.js';
import { assertLiveClean, backedUpVm, debugfsWrite, finishedTask, liveImage, mount, pointIdOf, readLive, stoppedSession } from '../services/mounts/flr-fixture.js';
import { cliOk } from '../helpers/cli.js';
import { findLink } from '../helpers/em-client.js';
import { cleanupOf, fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let server: ServerProcess;
let dataDir: string;

before(async () => {
  dataDir = tempDir(cleanup, 'openem-flr-refuse-');
  await backedUpVm(cleanup, dataDir, 'web01');
  await backedUpVm(cleanup, dataDir, 'db01');
  // A small disk holding one big file: after the live copy fills up, restoring that file has no room.
  const tinySrc = tempDir(cleanup, 'openem-tiny-');
  writeFileSync(join(tinySrc, 'big.bin'), Buffer.alloc(12 * 1024 * 1024, 7));
  await cliOk(dataDir, ['vm', 'create', 'tiny', '--from-dir', tinySrc, '--size', '24M']);
  await cliOk(dataDir, ['backup', 'tiny']);
  server = await startServerProcess({ dataDir, env: { OPENEM_MAX_MOUNTS: '2', OPENEM_MOUNT_IDLE_SECONDS: '3' } });
  // The last server started: the restart test replaces it.
  cleanup.defer(() => server.stop());
});

async function client(format: 'xml' | 'json' = 'json') {
  const c = new EmClient(server.http, format);
  await c.logOn();
  return c;
}

/** Sends a path exactly as written: fetch would resolve `..` and `%2e%2e` before sending. */
function rawGet(url: string, token: string): Promise<number> {
  const u = new URL(url);
  const path = url.slice(url.indexOf('/', 'http://'.length));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, method: 'GET', headers: { 'X-RestSvcSessionId': token } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

test('paths that climb out of the guest are 400, a missing path 404, and nothing on the host is read', async (t) => {
  const c = await client();
  const id = await pointIdOf(c, 'web01');
  const href = await mount(cleanupOf(t), c, id);
  for (const bad of ['etc/../../etc/passwd', '..', '%2e%2e/etc', 'etc/%2E%2E/%2e%2e', 'etc/./hostname', 'etc/a%00b', '%2F..%2Fetc', 'C:/../etc', 'etc/%E0%A4%A']) {
    assert.equal(await rawGet(`${href}/${bad}`, c.token!), 400, bad);
    assert.equal(await rawGet(`${href}/${bad}?action=download`, c.token!), 400, `${bad} download`);
  }
  assert.equal((await c.get(`${href}/etc/no-such-file`)).status, 404);
  assert.equal((await c.get(`${href}/etc/no-such-file?action=download`)).status, 404);
  assert.equal((await c.request('DELETE', href)).status, 204);
});

test("a mount number of another restore point, a deleted mount and a bad mount body are refused", async (t) => {
  const c = await client('xml');
  const web = await pointIdOf(c, 'web01');
  const db = await pointIdOf(c, 'db01');
  const href = await mount(cleanupOf(t), c, web);
  const n = href.split('/').pop();
  assert.equal((await c.get(`${c.base}/api/vmRestorePoints/${db}/mounts/${n}`)).status, 404);
  assert.equal((await c.request('DELETE', href)).status, 204);
  assert.equal((await c.request('DELETE', href)).status, 404);
  assert.equal((await c.get(`${href}/etc`)).status, 404);
  const bad = await c.request('POST', `${c.base}/api/vmRestorePoints/${web}/mounts`, { body: '<VmRestorePointMountSpec><OsKind>BeOS</OsKind></VmRestorePointMountSpec>' });
  assert.equal(bad.status, 400);
  const wrongRoot = await c.request('POST', `${c.base}/api/vmRestorePoints/${web}/mounts`, { body: '<RestoreSpec/>' });
  assert.equal(wrongRoot.status, 400);
  assert.equal((await c.request('POST', `${c.base}/api/vmRestorePoints/00000000-0000-0000-0000-000000000000/mounts`)).status, 404);
});

test('OsKind Windows on a Linux VM mounts the guest as what it is and says so', async (t) => {
  const c = await client('json');
  const href = await mount(cleanupOf(t), c, await pointIdOf(c, 'web01'), { xml: '', json: '{"OsKind":"Windows"}' });
  const details = await openemDetails(c, (await c.get(href)).body, 'MountDetails');
  assert.equal(details.OsKind, 'Windows');
  assert.equal(details.DetectedOsKind, 'Linux');
  assert.equal((await c.get(`${href}/etc/hostname`)).status, 200);
  assert.equal((await c.request('DELETE', href)).status, 204);
});

test('more mounts than OPENEM_MAX_MOUNTS are refused with a clear error', async (t) => {
  const c = await client('json');
  const id = await pointIdOf(c, 'web01');
  const a = await mount(cleanupOf(t), c, id);
  const b = await mount(cleanupOf(t), c, id);
  const third = await c.request('POST', `${c.base}/api/vmRestorePoints/${id}/mounts`);
  assert.equal(third.status, 409);
  assert.match(third.body.Message, /Too many mounted restore points: 2 of 2/);
  for (const h of [a, b]) assert.equal((await c.request('DELETE', h)).status, 204);
});

test('a mount nobody uses ends by itself after the idle time, folder included', async (t) => {
  const c = await client('json');
  const href = await mount(cleanupOf(t), c, await pointIdOf(c, 'web01'));
  const folder = (await openemDetails(c, (await c.get(href)).body, 'MountDetails')).LocalFolder;
  assert.ok(folder);
  await waitFor('idle mount to expire', async () => ((await c.get(href)).status === 404 ? true : undefined), 20_000, 500);
  // The resource goes first; the folder follows once its FUSE daemon has stopped (slower under load).
  await waitFor('idle mount folder to go', async () => ((await readdir(folder).catch((e) => e.code)) === 'ENOENT' ? true : undefined), 20_000, 200);
});

test('a restore into a VM whose disk has no room fails its session and leaves the filesystem clean', async (t) => {
  const c = await client('json');
  const id = await pointIdOf(c, 'tiny');
  const image = await liveImage(dataDir, 'tiny');
  const filler = join(tempDir(cleanupOf(t), 'openem-fill-'), 'filler');
  writeFileSync(filler, Buffer.alloc(13 * 1024 * 1024, 1));
  await debugfsWrite(image, ['rm /big.bin', `write ${filler} /filler.bin`]);
  const r = await c.request('POST', `${c.base}/api/catalog/vms/tiny/vmRestorePoints/${id}/guestfs/big.bin?action=restore`);
  assert.equal(r.status, 202, r.text);
  const task = await finishedTask(c, r.body.Href);
  const session = await stoppedSession(c, findLink(task, 'Related', 'RestoreSession')!.Href);
  assert.equal(session.Result, 'Failed');
  assert.match(JSON.stringify(session), /too full/);
  assert.equal(await readLive(image, '/big.bin'), undefined);
  assert.ok((await readLive(image, '/filler.bin'))!.equals(readFileSync(filler)));
  await assertLiveClean(image);
});

test('mounts are dropped cleanly when the server stops and are gone after a restart', async (t) => {
  const c = await client('json');
  const href = await mount(cleanupOf(t), c, await pointIdOf(c, 'web01'));
  const folder = join(dataDir, 'flr', 'web01');
  const mounted = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === folder);
  assert.ok(mounted(), `${folder} is a mount while the restore point is mounted`);
  assert.equal(await server.stop(), 0);
  // Dropped cleanly: no mount left behind (alive or dead), and the folder is gone.
  assert.ok(!mounted(), `${folder} is still mounted after the server stopped`);
  await assert.rejects(readdir(folder), { code: 'ENOENT' });
  server = await startServerProcess({ dataDir, env: { OPENEM_MAX_MOUNTS: '2', OPENEM_MOUNT_IDLE_SECONDS: '3' } });
  const c2 = await client('json');
  const again = href.replace(/^http:\/\/[^/]+/, server.http);
  assert.equal((await c2.get(again)).status, 404);
  assert.equal((await c2.get(`${server.http}/api/vmRestorePoints/${await pointIdOf(c2, 'web01')}/mounts`)).status, 200);
});
