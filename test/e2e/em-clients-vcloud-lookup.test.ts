// A v1_4-era Cloud Director client: it finds its references through /lookupSvc and restores with
// RestoreSpec/vCloudVmRestoreSpec (issue #10 item 8 and "/lookupSvc"; seed 001; lookup_query.md).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, linksOf, type Format } from '../helpers/em-client.js';
import { sha256File } from '../services/restore-vm/restore-fixtures.js';
import { diskPathOf, findPointEntity, powerStateOf, prepareDataDir, rootOf, vcloudRestoreBody, waitForSession, waitForTask, type PreparedVm } from './vm-restore-fixtures.js';
import { fileCleanup } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let server: ServerProcess | undefined;
let dataDir: string;
let vms: Record<string, PreparedVm>;

before(async () => {
  ({ dataDir, vms } = await prepareDataDir(cleanup, [
    { name: 'vcd14', blocks: 48, platform: 'vcloud' },
    { name: 'vs14', blocks: 16, platform: 'vsphere' },
  ]));
  server = await startServerProcess({ dataDir });
  cleanup.defer(async () => {
    assert.equal(await server?.stop(), 0);
  });
});

const items = (body: any, format: Format): any[] => (format === 'json' ? body.HierarchyItems : [body.HierarchyItems?.HierarchyItem ?? []].flat());

/** What the client learns from the lookup service: the Cloud Director root, its datastore and the VM's reference. */
async function lookUp(c: EmClient, format: Format): Promise<{ rootUid: string; datastoreRef: string; vmRef: string }> {
  const logon = await c.logOn('admin', undefined, 'v1_4');
  assert.equal(logon.status, 201);
  const svcLink = findLink(rootOf(logon.body, format, 'LogonSession'), 'Down', 'LookupService');
  assert.ok(svcLink, 'the logon session links the lookup service');
  const svc = await c.get(svcLink.Href);
  assert.equal(svc.status, 200);
  const lookupSvc = rootOf(svc.body, format, 'LookupSvc');
  assert.equal(lookupSvc.Type, 'LookupService');
  assert.equal(findLink(lookupSvc, 'Up', 'LogonSession')?.Href, findLink(rootOf(logon.body, format, 'LogonSession'), 'Delete')?.Href);

  // The root is found as seed 001 says: /hierarchyRoots, HostType VcdSystem.
  const roots = await c.get(`${server!.http}/api/hierarchyRoots?format=Entity`);
  const list = format === 'json' ? roots.body.HierarchyRoots : [roots.body.HierarchyRoots.HierarchyRoot].flat();
  const vcd = list.find((r: any) => r.HostType === 'VcdSystem');
  assert.ok(vcd, 'a Cloud Director root');
  const vmLookup = linksOf(lookupSvc).find((l) => l.Rel === 'Down' && l.Type === 'HierarchyItemList' && l.Href.includes(vcd.UID) && l.Href.endsWith('type=Vm'));
  assert.ok(vmLookup, 'the lookup service links a VM lookup for the Cloud Director root');

  const vmsOnRoot = await c.get(vmLookup.Href);
  assert.equal(vmsOnRoot.status, 200);
  const vm = items(vmsOnRoot.body, format).find((i) => i.ObjectName === 'vcd14');
  assert.ok(vm, 'the VM is listed on its root');
  assert.equal(vm.ObjectType, 'Vm');
  assert.match(vm.ObjectRef, new RegExp(`^urn:vCloud:Vm:${vcd.UID.split(':').pop()}\\.urn:vcloud:vm:[0-9a-f-]{36}$`));
  assert.equal(items(vmsOnRoot.body, format).some((i) => i.ObjectName === 'vs14'), false, 'a vSphere VM is not on the Cloud Director root');

  const ds = await c.get(`${server!.http}/api/lookup?host=${vcd.UID}&name=*&type=Datastore`);
  assert.equal(ds.status, 200);
  const [datastore] = items(ds.body, format);
  assert.ok(datastore, 'the root has a datastore');
  assert.match(datastore.ObjectRef, /^urn:vCloud:Datastore:[0-9a-f-]{36}\.urn:vcloud:datastore:[0-9a-f-]{36}$/);

  // The reference the lookup gives is the one the restore point carries, and it looks itself up.
  const point = await c.get(`${server!.http}/api/vmRestorePoints/${vms.vcd14.pointId}?format=Entity`);
  assert.equal(rootOf(point.body, format, 'VmRestorePoint').HierarchyObjRef, vm.ObjectRef);
  const byRef = await c.get(`${server!.http}/api/lookup?hierarchyRef=${vm.ObjectRef}`);
  assert.deepEqual(items(byRef.body, format).map((i) => i.ObjectName), ['vcd14']);
  return { rootUid: vcd.UID, datastoreRef: datastore.ObjectRef, vmRef: vm.ObjectRef };
}

for (const format of ['xml', 'json'] as Format[]) {
  test(`a v1_4 client restores a Cloud Director VM with vCloudVmRestoreSpec (${format}), its references taken from /lookupSvc`, async () => {
    const c = new EmClient(server!.http, format);
    const { rootUid, datastoreRef } = await lookUp(c, format);
    const newName = `vcd14-${format}`;
    const vAppRef = `urn:vCloud:Vapp:${rootUid.split(':').pop()}.urn:vcloud:vapp:${randomUUID()}`;
    const point = await findPointEntity(c, 'vcd14');
    const posted = await c.request('POST', findLink(point, 'Restore')!.Href, { body: vcloudRestoreBody(format, { rootUid, datastoreRef, pointId: vms.vcd14.pointId, newName, powerOn: format === 'json', vAppRef }) });
    assert.equal(posted.status, 202, posted.text);
    const task = await waitForTask(c, rootOf(posted.body, format, 'Task').Href);
    const session = await waitForSession(c, task);
    assert.equal(session.Result, 'Success', session.FailureMessage);
    assert.equal(await sha256File(await diskPathOf(dataDir, newName)), await sha256File(vms.vcd14.reference), 'the new VM holds the backed-up disk');
    assert.equal(await powerStateOf(dataDir, newName), format === 'json' ? 'PoweredOn' : 'PoweredOff');
    // The new VM is on the datastore the lookup named, so the lookup now finds it there.
    const after = await c.get(`${server!.http}/api/lookup?host=${rootUid}&name=${newName}&type=vm`);
    assert.equal(items(after.body, format).length, 1);
  });
}

test('vCloudVmRestoreSpec is refused for a vSphere VM, out of order, or with a vAppRef on another root', async () => {
  const c = new EmClient(server!.http, 'xml');
  const { rootUid, datastoreRef } = await lookUp(c, 'xml');
  const root = rootUid.split(':').pop()!;
  const body = (over: Partial<Parameters<typeof vcloudRestoreBody>[1]> = {}) =>
    vcloudRestoreBody('xml', { rootUid, datastoreRef, pointId: vms.vcd14.pointId, newName: 'vcd14-refused', powerOn: false, vAppRef: `urn:vCloud:Vapp:${root}.urn:vcloud:vapp:${randomUUID()}`, ...over });
  const post = (pointId: string, text: string) => c.request('POST', `${server!.http}/api/vmRestorePoints/${pointId}?action=restore`, { body: text });
  const vs = await post(vms.vs14.pointId, body({ pointId: vms.vs14.pointId }));
  assert.equal(vs.status, 400);
  assert.match(vs.body.Error.Message, /vCloudVmRestoreSpec belongs to Cloud Director VMs only/);
  const swapped = body().replace(/(<HierarchyRootUid>.*<\/HierarchyRootUid>)(\s*)(<vAppRef>.*<\/vAppRef>)/, '$3$2$1');
  const outOfOrder = await post(vms.vcd14.pointId, swapped);
  assert.equal(outOfOrder.status, 400);
  assert.match(outOfOrder.body.Error.Message, /out of order/);
  const elsewhere = await post(vms.vcd14.pointId, body({ vAppRef: `urn:vCloud:Vapp:${randomUUID()}.urn:vcloud:vapp:${randomUUID()}` }));
  assert.equal(elsewhere.status, 400);
  assert.match(elsewhere.body.Error.Message, /vAppRef .* is not on hierarchy root/);
  const noVapp = await post(vms.vcd14.pointId, body().replace(/\s*<vAppRef>.*<\/vAppRef>/, ''));
  assert.equal(noVapp.status, 400);
  assert.match(noVapp.body.Error.Message, /vAppRef/);
  assert.equal(await powerStateOf(dataDir, 'vcd14-refused'), undefined, 'no VM was made');
});

test('a lookup of a type the platform does not have is a 400; one openem has no objects of is an empty list', async () => {
  const c = new EmClient(server!.http, 'json');
  const { rootUid } = await lookUp(c, 'json');
  const bad = await c.get(`${server!.http}/api/lookup?host=${rootUid}&name=*&type=StoragePod`);
  assert.equal(bad.status, 400);
  const none = await c.get(`${server!.http}/api/lookup?host=${rootUid}&name=*&type=Vapp`);
  assert.equal(none.status, 200);
  assert.deepEqual(none.body, { HierarchyItems: [] });
  const missing = await c.get(`${server!.http}/api/lookup?name=*&type=Vm`);
  assert.equal(missing.status, 400);
});
