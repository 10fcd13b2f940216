// `POST /catalog/vms/{vmname}/vmRestorePoints/{ID}?action=browse` (post_catalog_vms_vmname_vmrestorepoints_id_actoinbrowse.md,
// scenario_1_click_restore.md; issue #10 "The resources clients call that openem lacks"): a client that follows the
// 1-click restore scenario step by step — the point's Browse link, 200 with the BrowseVM task, the task polled to
// Finished, its Down link followed to the guest file system and on to a listing.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, writeSync, closeSync, fstatSync } from 'node:fs';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, linksOf, type Format } from '../helpers/em-client.js';
import { backedUpVm, body, finishedTask, liveImage, pointIdOf } from '../services/mounts/flr-fixture.js';
import { cliOk } from '../helpers/cli.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let server: ServerProcess;
let dataDir: string;

before(async () => {
  dataDir = tempDir(cleanup, 'openem-browse-');
  await backedUpVm(cleanup, dataDir, 'web01');
  // A VM whose disk holds no filesystem openem reads: its point is in the catalog, but its guest files cannot be browsed.
  await cliOk(dataDir, ['vm', 'create', 'blank01', '--from-dir', tempDir(cleanup, 'openem-blank-src-'), '--size', '16M']);
  const image = await liveImage(dataDir, 'blank01');
  const fd = openSync(image, 'r+');
  try {
    const zeros = Buffer.alloc(1024 * 1024);
    for (let at = 0; at < fstatSync(fd).size; at += zeros.length) writeSync(fd, zeros, 0, zeros.length, at);
  } finally {
    closeSync(fd);
  }
  await cliOk(dataDir, ['backup', 'blank01']);
  await cliOk(dataDir, ['user', 'add', 'olivia', '--password-stdin', '--role', 'restore-operator', '--scope', 'vm:blank01'], { input: 'Olivia-pass-1\n' });
  server = await startServerProcess({ dataDir });
  cleanup.defer(() => server.stop());
});

async function client(format: Format, user?: string, password?: string) {
  const c = new EmClient(server.http, format);
  const r = user ? await c.logOn(user, password) : await c.logOn();
  assert.equal(r.status, 201, r.text);
  return c;
}

const refsOf = (c: EmClient, b: any) => (c.format === 'xml' ? [b.EntityReferences.Ref].flat() : b.Refs);

for (const format of ['xml', 'json'] as Format[]) {
  test(`the 1-click restore scenario's browse: the point's Browse link, 200 with a BrowseVM task, its Down link to the guest files (${format})`, async () => {
    const c = await client(format);
    const points = await c.get(`${c.base}/api/catalog/vms/web01/vmRestorePoints`);
    const ref = refsOf(c, points.body)[0];
    const entity = body(c, (await c.get(findLink(ref, 'Alternate')!.Href)).body, 'CatalogVmRestorePoint');
    // EM's links in EM's order: Alternate, Up, Browse, Related (scenario_1_click_restore.md).
    assert.deepEqual(linksOf(entity).slice(0, 4).map((l) => l.Rel), ['Alternate', 'Up', 'Browse', 'Related']);
    const browseHref = findLink(entity, 'Browse')!.Href;
    assert.match(browseHref, /\/api\/catalog\/vms\/web01\/vmRestorePoints\/[0-9a-f-]{36}\?action=browse$/);

    const r = await c.request('POST', browseHref);
    assert.equal(r.status, 200, r.text);
    const accepted = body(c, r.body, 'Task');
    assert.equal(accepted.Operation, 'BrowseVM');
    assert.match(accepted.TaskId, /^task-\d+$/);
    assert.equal(findLink(accepted, 'Delete', 'Task')!.Href, accepted.Href);

    const task = await finishedTask(c, accepted.Href);
    assert.equal(task.Result.Success, format === 'xml' ? 'true' : true, JSON.stringify(task));
    // Delete, then Down FileSystemItemsList to the guest file system (the scenario's finished task).
    assert.deepEqual(linksOf(task).map((l) => `${l.Rel} ${l.Type}`), ['Delete Task', 'Down FileSystemItemsList']);
    const fs = findLink(task, 'Down', 'FileSystemItemsList')!;
    assert.equal(fs.Href, browseHref.replace('?action=browse', '/guestfs/'));

    // The file system root, then a listing of a folder under it.
    const root = await c.get(fs.Href);
    assert.equal(root.status, 200, root.text);
    const listing = await c.get(`${fs.Href}etc?action=listAll`);
    assert.equal(listing.status, 200, listing.text);
    assert.match(listing.text, /hostname/);
    assert.match(listing.text, /nginx/);
  });
}

test('a point whose guest files cannot be read: the browse task ends failed, with the reason, and links nowhere', async () => {
  const c = await client('json');
  const id = await pointIdOf(c, 'blank01');
  const r = await c.request('POST', `${c.base}/api/catalog/vms/blank01/vmRestorePoints/${id}?action=browse`);
  assert.equal(r.status, 200, r.text);
  const task = await finishedTask(c, r.body.Href);
  assert.equal(task.Result.Success, false);
  assert.match(task.Result.Message, /No guest filesystem openem can read/);
  assert.equal(findLink(task, 'Down'), undefined);
});

test('browse refusals: an unknown point 404, a point of another VM 404, an ID that is not a GUID 400, another action 400, out of scope 403', async () => {
  const c = await client('json');
  const web = await pointIdOf(c, 'web01');
  const blank = await pointIdOf(c, 'blank01');
  const unknown = await c.request('POST', `${c.base}/api/catalog/vms/web01/vmRestorePoints/00000000-0000-4000-8000-000000000000?action=browse`);
  assert.equal(unknown.status, 404, unknown.text);
  assert.equal(unknown.body.StatusCode, 404);
  assert.equal((await c.request('POST', `${c.base}/api/catalog/vms/blank01/vmRestorePoints/${web}?action=browse`)).status, 404);
  const bad = await c.request('POST', `${c.base}/api/catalog/vms/web01/vmRestorePoints/99999?action=browse`);
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.body.Message, ' ID 99999 is invalid. Type: VmRestorePoint');
  assert.equal((await c.request('POST', `${c.base}/api/catalog/vms/web01/vmRestorePoints/${web}?action=restore`)).status, 400);
  assert.equal((await c.request('POST', `${c.base}/api/catalog/vms/web01/vmRestorePoints/${web}`)).status, 400);

  // A Restore Operator of blank01: browses its own VM, gets what any out-of-scope catalog request gets for web01.
  const olivia = await client('json', 'olivia', 'Olivia-pass-1');
  assert.equal((await olivia.request('POST', `${c.base}/api/catalog/vms/blank01/vmRestorePoints/${blank}?action=browse`)).status, 200);
  const out = await olivia.request('POST', `${c.base}/api/catalog/vms/web01/vmRestorePoints/${web}?action=browse`);
  const outGet = await olivia.get(`${c.base}/api/catalog/vms/web01/vmRestorePoints/${web}?format=Entity`);
  assert.equal(out.status, 403, out.text);
  assert.equal(out.status, outGet.status);

  // Audited as other actions are: who, what, the point and the task.
  const lines = (await cliOk(dataDir, ['audit', '--json'])).trim().split('\n').map((l) => JSON.parse(l));
  const browses = lines.filter((l) => l.what === 'browse-catalog');
  assert.ok(browses.some((l) => l.who === 'admin' && l.result === 'success' && /^blank01 [0-9a-f-]{36} \(task-\d+\)$/.test(l.target)), JSON.stringify(browses));
  assert.ok(browses.some((l) => l.who === 'olivia'), JSON.stringify(browses));
});

test('query type CatalogVm: Entities and Refs in EM\'s nested shape, filtered and sorted by name, only the VMs in the caller\'s scope', async () => {
  const c = await client('json');
  const all = await c.get(`${c.base}/api/query?type=CatalogVm&format=Entities&sortAsc=name`);
  assert.equal(all.status, 200, all.text);
  const vms = all.body.Entities.CatalogVms.CatalogVms;
  assert.deepEqual(vms.map((v: any) => v.Name), ['blank01', 'web01']);
  // The entity as /catalog/vms/{vmname}?format=Entity serves it (catalog_vms_vmname.md).
  assert.deepEqual(vms[1], (await c.get(`${c.base}/api/catalog/vms/web01?format=Entity`)).body);
  assert.equal(vms[1].VmDisplayName, 'web01');
  assert.equal(vms[1].UID, 'urn:veeam:CatalogVm:web01');
  assert.deepEqual(all.body.PagingInfo.PageNum, 1);

  const desc = await c.get(`${c.base}/api/query?type=catalogvm&format=Entities&sortDesc=Name`);
  assert.deepEqual(desc.body.Entities.CatalogVms.CatalogVms.map((v: any) => v.Name), ['web01', 'blank01']);
  for (const filter of ['VmName==web01', 'Name==web01', 'VmDisplayName==web*', 'UID=="urn:veeam:CatalogVm:web01"']) {
    const r = await c.get(`${c.base}/api/query?type=CatalogVm&format=Entities&filter=${encodeURIComponent(filter)}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.Entities.CatalogVms.CatalogVms.map((v: any) => v.Name), ['web01'], filter);
  }
  const refs = await c.get(`${c.base}/api/query?type=CatalogVm&format=References&pageSize=1&page=2&sortAsc=name`);
  assert.equal(refs.body.Refs.Refs.length, 1);
  assert.equal(refs.body.Refs.Refs[0].Type, 'CatalogVmReference');
  assert.equal(refs.body.Refs.Refs[0].Href, `${c.base}/api/catalog/vms/web01`);
  assert.equal(refs.body.PagingInfo.PagesCount, 2);
  assert.ok(findLink(refs.body.Refs.Refs[0], 'Down', 'CatalogVmRestorePointReferenceList'));
  // The query service links a preconfigured query for it.
  assert.match((await c.get(`${c.base}/api/querySvc`)).text, /type=CatalogVm&format=Entities/);

  const x = await client('xml');
  const xr = await x.get(`${x.base}/api/query?type=CatalogVm&format=Entities&filter=name==web01`);
  assert.equal(xr.status, 200, xr.text);
  assert.match(xr.text, /<QueryResult[^>]*>\s*<Entities>\s*<CatalogVms>\s*<CatalogVm Type="CatalogVm" Href="[^"]+\/api\/catalog\/vms\/web01\?format=Entity" Name="web01" UID="urn:veeam:CatalogVm:web01" VmDisplayName="web01">\s*<Links>\s*<Link Rel="Alternate" Type="CatalogVmReference"[^>]*\/>\s*<Link Rel="Down" Type="CatalogVmRestorePointReferenceList"[^>]*\/>\s*<\/Links>\s*<\/CatalogVm>\s*<\/CatalogVms>\s*<\/Entities>\s*<PagingInfo/);

  const olivia = await client('json', 'olivia', 'Olivia-pass-1');
  const hers = await olivia.get(`${c.base}/api/query?type=CatalogVm&format=Entities`);
  assert.deepEqual(hers.body.Entities.CatalogVms.CatalogVms.map((v: any) => v.Name), ['blank01']);
});
