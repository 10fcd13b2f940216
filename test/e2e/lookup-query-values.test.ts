// `/lookup` parameters over HTTP: a parameter given twice is a 400 with EM's Error body (not a 500), and a
// name pattern of many stars is answered at once (lookup_query.md; src/api/query/wildcard.ts).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient } from '../helpers/em-client.js';
import { prepareDataDir } from './vm-restore-fixtures.js';
import { fileCleanup } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let server: ServerProcess | undefined;
let c: EmClient;
let rootUid = '';

before(async () => {
  const { dataDir } = await prepareDataDir(cleanup, [{ name: 'lookme', blocks: 16, platform: 'vsphere' }]);
  server = await startServerProcess({ dataDir });
  cleanup.defer(async () => {
    assert.equal(await server?.stop(), 0);
  });
  c = new EmClient(server.http, 'json');
  assert.equal((await c.logOn()).status, 201);
  const roots = await c.get(`${server.http}/api/hierarchyRoots?format=Entity`);
  rootUid = roots.body.HierarchyRoots.find((r: any) => r.HostType === 'VC').UID;
  assert.ok(rootUid, 'a vSphere root');
});

test('a lookup parameter given twice is answered 400 with an EM Error body', async () => {
  const host = encodeURIComponent(rootUid);
  for (const query of [
    `host=${host}&type=Vm&name=a&name=b`,
    `host=${host}&type=Vm&type=Datastore`,
    `host=${host}&host=${host}&type=Vm`,
    `hierarchyRef=urn:VMware:Vm:x.vm-1&hierarchyRef=urn:VMware:Vm:y.vm-2`,
  ]) {
    const r = await c.get(`${server!.http}/api/lookup?${query}`);
    assert.equal(r.status, 400, query);
    assert.equal(r.body.StatusCode, 400, query);
    assert.match(r.body.Message, /given only once/, query);
  }
});

test('a name of thirty stars before a letter no VM name ends with answers no items, and the VM is still found by pattern', async () => {
  const host = encodeURIComponent(rootUid);
  const none = await c.get(`${server!.http}/api/lookup?host=${host}&type=Vm&name=${encodeURIComponent('*'.repeat(30) + 'z')}`);
  assert.equal(none.status, 200);
  assert.deepEqual(none.body.HierarchyItems, []);
  const found = await c.get(`${server!.http}/api/lookup?host=${host}&type=Vm&name=${encodeURIComponent('L*k**E')}`);
  assert.equal(found.status, 200);
  assert.deepEqual(found.body.HierarchyItems.map((i: any) => i.ObjectName), ['lookme']);
});
