// Query results in Enterprise Manager's shape, read the way strict clients read them (issue #10 item 5).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { createBackedUpVm } from '../helpers/vm-fixture.js';
import { EmClient, findLink, waitFor } from '../helpers/em-client.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let server: ServerProcess | undefined;
let json: EmClient;
let xml: EmClient;

before(async () => {
  const dataDir = tempDir(cleanup, 'openem-query-shape-');
  await createBackedUpVm(dataDir, 'qvm', { sizeMiB: 32, payloadMiB: 1 });
  server = await startServerProcess({ dataDir });
  cleanup.defer(async () => {
    assert.equal(await server?.stop(), 0);
  });
  json = new EmClient(server.http, 'json');
  xml = new EmClient(server.http, 'xml');
  assert.equal((await json.logOn()).status, 201);
  assert.equal((await xml.logOn()).status, 201);
});

/** A strict binder: the object has exactly these keys, no more, no fewer. */
function exactKeys(o: unknown, keys: string[], what: string): any {
  assert.ok(o && typeof o === 'object' && !Array.isArray(o), `${what} is an object`);
  assert.deepEqual(Object.keys(o as object).sort(), [...keys].sort(), what);
  return o;
}

function assertPagingInfo(p: any, pagesCount: number) {
  exactKeys(p, ['Links', 'PageNum', 'PageSize', 'PagesCount'], 'PagingInfo');
  assert.equal(typeof p.PageNum, 'number');
  assert.equal(p.PagesCount, pagesCount);
  assert.ok(Array.isArray(p.Links) && p.Links.every((l: any) => typeof l.Rel === 'string' && typeof l.Href === 'string'));
}

test('entities come as {"Entities":{"VmRestorePoints":{"VmRestorePoints":[…]}},"PagingInfo":{…}}', async () => {
  const r = await json.get(`${server!.http}/api/query?type=VmRestorePoint&format=Entities&filter=VmDisplayName==qvm`);
  assert.equal(r.status, 200);
  exactKeys(r.body, ['Entities', 'PagingInfo'], 'QueryResult');
  exactKeys(r.body.Entities, ['VmRestorePoints'], 'Entities');
  exactKeys(r.body.Entities.VmRestorePoints, ['VmRestorePoints'], 'Entities.VmRestorePoints');
  const points = r.body.Entities.VmRestorePoints.VmRestorePoints;
  assert.equal(points.length, 1);
  assert.equal(points[0].Type, 'VmRestorePoint');
  assert.equal(points[0].VmName, 'qvm');
  assertPagingInfo(r.body.PagingInfo, 1);
  // The entity found this way is the one a client then restores from.
  assert.ok(findLink(points[0], 'Restore')?.Href.endsWith('?action=restore'));
});

test('references come as {"Refs":{"Refs":[…]}} and an empty page as an empty list, not a missing key', async () => {
  const r = await json.get(`${server!.http}/api/query?type=BackupServer`);
  assert.equal(r.status, 200);
  exactKeys(r.body, ['PagingInfo', 'Refs'], 'QueryResult');
  exactKeys(r.body.Refs, ['Refs'], 'Refs');
  assert.equal(r.body.Refs.Refs.length, 1);
  assert.equal(r.body.Refs.Refs[0].Type, 'BackupServerReference');
  const none = await json.get(`${server!.http}/api/query?type=VmRestorePoint&filter=VmDisplayName==nosuchvm`);
  assert.equal(none.status, 200);
  assert.deepEqual(none.body.Refs, { Refs: [] });
  assertPagingInfo(none.body.PagingInfo, 1);
});

test('tasks come in Resources/Tasks, whatever the format', async () => {
  const jobs = await json.get(`${server!.http}/api/jobs?format=Entity`);
  const start = await json.request('POST', findLink(jobs.body.Jobs[0], 'Start')!.Href);
  assert.equal(start.status, 202);
  await waitFor('the job task to finish', async () => ((await json.get(start.body.Href)).body.State === 'Finished' ? true : undefined));
  for (const format of ['', '&format=Entities']) {
    const r = await json.get(`${server!.http}/api/query?type=Task${format}`);
    assert.equal(r.status, 200);
    exactKeys(r.body, ['PagingInfo', 'Resources'], 'QueryResult');
    exactKeys(r.body.Resources, ['Tasks'], 'Resources');
    exactKeys(r.body.Resources.Tasks, ['Tasks'], 'Resources.Tasks');
    assert.ok(r.body.Resources.Tasks.Tasks.some((t: any) => t.TaskId === start.body.TaskId && t.Operation === 'StartJob'));
  }
  const x = await xml.get(`${server!.http}/api/query?type=Task`);
  assert.match(x.text, /<QueryResult xmlns="http:\/\/www\.veeam\.com\/ent\/v1\.0">\n {2}<Resources>\n {4}<Tasks>\n {6}<Task Type="Task"/);
});

test('the XML form nests the same way, with PagingInfo right after the payload and no top-level Links', async () => {
  const e = await xml.get(`${server!.http}/api/query?type=VmRestorePoint&format=Entities`);
  assert.equal(e.status, 200);
  assert.match(e.text, /<QueryResult xmlns="http:\/\/www\.veeam\.com\/ent\/v1\.0">\n {2}<Entities>\n {4}<VmRestorePoints>\n {6}<VmRestorePoint Type="VmRestorePoint"/);
  assert.match(e.text, /\n {2}<\/Entities>\n {2}<PagingInfo PageNum="1" PageSize="\d+" PagesCount="1">/);
  assert.doesNotMatch(e.text, /\n {2}<Links>/, 'no Links element directly under QueryResult');
  const r = await xml.get(`${server!.http}/api/query?type=HierarchyRoot`);
  assert.match(r.text, /<QueryResult xmlns="http:\/\/www\.veeam\.com\/ent\/v1\.0">\n {2}<Refs>\n {4}<Ref Type="HierarchyRootReference"/);
});

test('the filters the em13 query pages show work: BackupServerName/BackupServerUid on any type, TaskId on tasks', async () => {
  const bs = (await json.get(`${server!.http}/api/backupServers?format=Entity`)).body.BackupServers[0];
  const byName = await json.get(`${server!.http}/api/query?type=VmRestorePoint&filter=${encodeURIComponent(`BackupServerName=="${bs.Name}";VmDisplayName==qvm`)}`);
  assert.equal(byName.status, 200, byName.text);
  assert.equal(byName.body.Refs.Refs.length, 1);
  const byUid = await json.get(`${server!.http}/api/query?type=HierarchyRoot&filter=${encodeURIComponent(`BackupServerUid=="${bs.UID}"`)}`);
  assert.equal(byUid.status, 200, byUid.text);
  assert.ok(byUid.body.Refs.Refs.length >= 1);
  const bare = await json.get(`${server!.http}/api/query?type=HierarchyRoot&filter=${encodeURIComponent(`BackupServerUid==${bs.UID.split(':').pop()}`)}`);
  assert.deepEqual(bare.body.Refs, byUid.body.Refs, 'a bare GUID names the same server as its UID');
  const other = await json.get(`${server!.http}/api/query?type=Job&filter=${encodeURIComponent('BackupServerName=="not-this-server"')}`);
  assert.deepEqual(other.body.Refs.Refs, []);
  const tasks = (await json.get(`${server!.http}/api/query?type=Task`)).body.Resources.Tasks.Tasks;
  assert.ok(tasks.length >= 1, 'an earlier test started a job');
  const one = await json.get(`${server!.http}/api/query?type=Task&filter=TaskId==${tasks[0].TaskId}`);
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.body.Resources.Tasks.Tasks.map((t: any) => t.TaskId), [tasks[0].TaskId]);
});
