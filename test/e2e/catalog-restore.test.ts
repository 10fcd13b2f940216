import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, type Format } from '../helpers/em-client.js';
import { assertLiveClean, backedUpVm, body, debugfsWrite, entriesOf, finishedTask, liveImage, mount, pointIdOf, readLive, stoppedSession } from '../services/mounts/flr-fixture.js';
import { cleanupOf, fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let server: ServerProcess;
let dataDir: string;
let src: string;

before(async () => {
  dataDir = tempDir(cleanup, 'openem-catalog-');
  src = await backedUpVm(cleanup, dataDir, 'web01');
  await backedUpVm(cleanup, dataDir, 'vcd01', 'vcloud');
  server = await startServerProcess({ dataDir });
  cleanup.defer(() => server.stop());
});

/** A host file holding `text`, for debugfs `write` (its source is a host path). */
function hostFile(text: string): string {
  const f = join(tempDir(cleanup, 'openem-host-'), 'f');
  writeFileSync(f, text);
  return f;
}

async function client(format: Format) {
  const c = new EmClient(server.http, format);
  await c.logOn();
  return c;
}

/** Follows a restore task to its session and waits for the session to stop. */
async function restoreOutcome(c: EmClient, taskHref: string) {
  const task = await finishedTask(c, taskHref);
  const rel = findLink(task, 'Related', 'RestoreSession');
  assert.ok(rel, 'task links to its restore session');
  return { task, rel, session: await stoppedSession(c, rel.Href) };
}

for (const format of ['xml', 'json'] as Format[]) {
  test(`catalog restore with seed 000's URL form puts a changed file back byte for byte (${format})`, async () => {
    const c = await client(format);
    const id = await pointIdOf(c, 'web01');
    const image = await liveImage(dataDir, 'web01');
    await debugfsWrite(image, ['rm /etc/nginx/nginx.conf', `write ${hostFile('changed by hand\n')} /etc/nginx/nginx.conf`]);
    assert.notDeepEqual(await readLive(image, '/etc/nginx/nginx.conf'), readFileSync(join(src, 'etc/nginx/nginx.conf')));
    const r = await c.request('POST', `${c.base}/api/catalog/vms/web01/vmRestorePoints/${id}/guestfs/etc/nginx/nginx.conf?action=restore`);
    assert.equal(r.status, 202, r.text);
    const accepted = body(c, r.body, 'Task');
    assert.equal(accepted.Operation, 'RestoreFile');
    const { task, rel, session } = await restoreOutcome(c, accepted.Href);
    assert.equal(task.Result.Success, format === 'xml' ? 'true' : true);
    assert.equal(task.Result.Message, 'Restore operations started successfully.');
    assert.equal(rel.Name, 'Restore job session');
    assert.equal(session.JobType, 'FileLevelRestore');
    assert.equal(session.Result, 'Success', JSON.stringify(session));
    assert.equal(Number(session.Progress), 100);
    assert.ok((await readLive(image, '/etc/nginx/nginx.conf'))!.equals(readFileSync(join(src, 'etc/nginx/nginx.conf'))));
    await assertLiveClean(image);
  });
}

test('a deleted folder restored through a mount comes back with its files, and the filesystem is clean', async (t) => {
  const c = await client('json');
  const id = await pointIdOf(c, 'web01');
  const image = await liveImage(dataDir, 'web01');
  await debugfsWrite(image, ['rm /srv/app/static/index.html', 'rmdir /srv/app/static', 'rm /srv/app/current', 'rm /srv/app/data.bin', 'rmdir /srv/app']);
  assert.equal(await readLive(image, '/srv/app/data.bin'), undefined);
  const href = await mount(cleanupOf(t), c, id);
  const listing = entriesOf(c, (await c.get(`${href}/srv`)).body);
  const app = listing.dirs.find((d) => d.Name === 'app');
  const r = await c.request('POST', findLink(app, 'Restore')!.Href, { body: '{"ToOriginalLocation":{"Overwrite":true}}' });
  assert.equal(r.status, 202, r.text);
  const { session } = await restoreOutcome(c, r.body.Href);
  assert.equal(session.Result, 'Success', JSON.stringify(session));
  assert.ok((await readLive(image, '/srv/app/data.bin'))!.equals(readFileSync(join(src, 'srv/app/data.bin'))));
  assert.equal((await readLive(image, '/srv/app/static/index.html'))!.toString(), '<h1>hello</h1>\n');
  await assertLiveClean(image);
  assert.equal((await c.request('DELETE', href)).status, 204);
});

test('Overwrite=false (XML attribute) keeps the live file and restores beside it as RESTORED_<name>', async (t) => {
  const c = await client('xml');
  const id = await pointIdOf(c, 'web01');
  const image = await liveImage(dataDir, 'web01');
  await debugfsWrite(image, ['rm /etc/hostname', `write ${hostFile('changed by hand\n')} /etc/hostname`]);
  const href = await mount(cleanupOf(t), c, id);
  const r = await c.request('POST', `${href}/etc/hostname?action=restore`, {
    body: '<FileRestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><ToOriginalLocation Overwrite="false"/></FileRestoreSpec>',
  });
  assert.equal(r.status, 202, r.text);
  const { session } = await restoreOutcome(c, r.body.Task.Href);
  assert.equal(session.Result, 'Success');
  assert.equal((await readLive(image, '/etc/hostname'))!.toString(), 'changed by hand\n');
  assert.equal((await readLive(image, '/etc/RESTORED_hostname'))!.toString(), 'web01\n');
  await assertLiveClean(image);
  assert.equal((await c.request('DELETE', href)).status, 204);
});

test('ForDirectDownload finishes its task with a link that downloads the file', async (t) => {
  const c = await client('json');
  const id = await pointIdOf(c, 'web01');
  const href = await mount(cleanupOf(t), c, id);
  const r = await c.request('POST', `${href}/etc/nginx/nginx.conf?action=restore`, { body: '{"ForDirectDownload":{}}' });
  assert.equal(r.status, 202, r.text);
  const task = await finishedTask(c, r.body.Href);
  const link = (task.Links as any[]).find((l) => l.Rel === 'Download' && /action=download/.test(l.Href));
  assert.ok(link, JSON.stringify(task));
  const dl = await c.get(link.Href);
  assert.equal(dl.text, readFileSync(join(src, 'etc/nginx/nginx.conf'), 'utf8'));
  assert.equal((await c.request('DELETE', href)).status, 204);
});

test('the catalog browses a restore point without a mount', async () => {
  for (const format of ['xml', 'json'] as Format[]) {
    const c = await client(format);
    const id = await pointIdOf(c, 'web01');
    const root = await c.get(`${c.base}/api/catalog/vms/web01/vmRestorePoints/${id}/guestfs`);
    assert.equal(root.status, 200);
    const etc = entriesOf(c, root.body).dirs.find((d) => d.Name === 'etc');
    const inside = entriesOf(c, (await c.get(findLink(etc, 'Down')!.Href)).body);
    assert.ok(inside.files.some((f) => f.Name === 'hostname'));
    const one = entriesOf(c, (await c.get(`${c.base}/api/catalog/vms/web01/vmRestorePoints/${id}/guestfs/C:/etc/hostname`)).body);
    assert.equal(one.files[0].Path, '/etc/hostname');
    assert.ok(findLink(one.files[0], 'Restore'));
  }
});

test('a Cloud Director VM is refused for catalog restore with an Error, and nothing is written', async () => {
  const c = await client('xml');
  const id = await pointIdOf(c, 'vcd01');
  const image = await liveImage(dataDir, 'vcd01');
  const before = readFileSync(image);
  const r = await c.request('POST', `${c.base}/api/catalog/vms/vcd01/vmRestorePoints/${id}/guestfs/etc/hostname?action=restore`);
  assert.equal(r.status, 400);
  assert.match(r.body.Error.Message, /vSphere and Microsoft Hyper-V .*Cloud Director/);
  assert.ok(readFileSync(image).equals(before));
});

test('a VM name that does not match the point, a missing path and a bad path are refused', async () => {
  const c = await client('json');
  const id = await pointIdOf(c, 'web01');
  const base = `${c.base}/api/catalog/vms`;
  assert.equal((await c.request('POST', `${base}/vcd01/vmRestorePoints/${id}/guestfs/etc/hostname?action=restore`)).status, 404);
  assert.equal((await c.request('POST', `${base}/web01/vmRestorePoints/${id}/guestfs/etc/no-such-file?action=restore`)).status, 404);
  assert.equal((await c.request('POST', `${base}/web01/vmRestorePoints/${id}/guestfs/etc/a%00b?action=restore`)).status, 400);
  assert.equal((await c.request('POST', `${base}/web01/vmRestorePoints/${id}/guestfs/etc/hostname?action=explode`)).status, 400);
});
