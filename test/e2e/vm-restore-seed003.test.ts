// Seed 003 walked step by step over HTTP, in XML and in JSON, with the seeds' request bodies; restored disks
// are compared byte for byte with the disks at backup time (issue #4 "How it is checked").
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, type Format } from '../helpers/em-client.js';
import { scribble, sha256File } from '../services/restore-vm/restore-fixtures.js';
import { diskPathOf, findPointEntity, logLines, powerStateOf, prepareDataDir, rootOf, waitForSession, waitForTask, type PreparedVm } from './vm-restore-fixtures.js';
import { fileCleanup } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let server: ServerProcess;
let dataDir: string;
let vms: Record<string, PreparedVm>;

before(async () => {
  ({ dataDir, vms } = await prepareDataDir(cleanup, [
    { name: 'sql01-xml', blocks: 96 },
    { name: 'sql01-json', blocks: 96 },
    { name: 'roll-xml', blocks: 200 },
    { name: 'roll-json', blocks: 200 },
    { name: 'keep01', blocks: 64 },
    { name: 'vcd01', blocks: 64, platform: 'vcloud' },
  ]));
  server = await startServerProcess({ dataDir });
  cleanup.defer(async () => {
    await server?.stop();
  });
});

/** Seed 001's vSphere/Hyper-V example body, exactly. */
const SEED_001_KEEP_ORIGINAL = `<?xml version="1.0" encoding="utf-8"?>
<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <VmRestoreSpec>
   <PowerOnAfterRestore>false</PowerOnAfterRestore>
   <QuickRollback>false</QuickRollback>
   <KeepOriginalVM>true</KeepOriginalVM>
 </VmRestoreSpec>
</RestoreSpec>`;

/** Seed 001's Cloud Director example body, exactly, before its UIDs are replaced by real ones. */
const SEED_001_VCD = `<?xml version="1.0" encoding="utf-8"?>
<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <VmRestoreSpec>
   <PowerOnAfterRestore>false</PowerOnAfterRestore>
   <HierarchyRootUid>urn:veeam:HierarchyRoot:1ed39e5b-06e1-4fbb-a106-52537b5e059e</HierarchyRootUid>
   <QuickRollback>false</QuickRollback>
   <VmRestoreParameters>
     <VmRestorePointUid>urn:veeam:VmRestorePoint:af9396fb-99e6-4e94-a82a-914cc5a3f810</VmRestorePointUid>
     <VmNewName>VM-restored</VmNewName>
     <DatastoreRef>urn:vCloud:Datastore:1ed39e5b-06e1-4fbb-a106-52537b5e059e.urn:vcloud:datastore:9cfafa2e-e57b-4bc5-9690-933947c62b80</DatastoreRef>
     <OrgVdcStorageProfileRef>urn:vCloud:OrgVdcStorageProfile:1ed39e5b-06e1-4fbb-a106-52537b5e059e.urn:vcloud:vdcstorageprofile:7e7ffe3a-33fa-4f9e-805b-c08b1a3645bf</OrgVdcStorageProfileRef>
     <LinkedCloneVmTemplateRef/>
   </VmRestoreParameters>
 </VmRestoreSpec>
</RestoreSpec>`;

/** Seed 003 steps 6-8: POST the Restore link, check the 202 Task, poll it, follow Related until Stopped. */
async function restoreThroughLinks(c: EmClient, point: any, body?: string): Promise<any> {
  const restore = findLink(point, 'Restore');
  assert.ok(restore, 'the VM restore point entity has a Restore link');
  const posted = await c.request('POST', restore.Href, body === undefined ? {} : { body });
  assert.equal(posted.status, 202, posted.text);
  const task = rootOf(posted.body, c.format, 'Task');
  assert.match(task.TaskId, /^task-\d+$/);
  assert.equal(task.State, 'Running');
  assert.equal(task.Operation, 'StartVMRestore');
  assert.equal(findLink(task, 'Delete', 'Task')?.Href, task.Href);

  const finished = await waitForTask(c, task.Href);
  const result = finished.Result;
  assert.equal(String(result.Success), 'true');
  assert.equal(result.Message, 'Ok');
  const session = await waitForSession(c, finished);
  assert.equal(session.JobType, 'RestoreVm');
  assert.equal(session.Result, 'Success', session.FailureMessage);
  assert.equal(Number(session.Progress), 100);
  assert.match(session.CreationTimeUTC, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.ok(session.EndTimeUTC, 'a stopped session has an end time');
  assert.ok(findLink(session, 'Up', 'BackupServerReference'));
  assert.ok(findLink(session, 'Alternate', 'RestoreSessionReference'));
  assert.ok(findLink(session, 'Related', 'VmRestorePointReference'));
  return session;
}

for (const format of ['xml', 'json'] as Format[]) {
  test(`seed 003 in ${format}: a restore posted with no body brings the VM's disk back byte for byte`, async () => {
    const vm = vms[`sql01-${format}`];
    const disk = await diskPathOf(dataDir, vm.name);
    await scribble(disk, [0, 5, 50, 95]);
    const c = new EmClient(server.http, format);
    const point = await findPointEntity(c, vm.name);
    assert.equal(point.VmDisplayName, vm.name);
    const session = await restoreThroughLinks(c, point);
    assert.equal(session.VmDisplayName, vm.name);
    assert.equal(await sha256File(disk), await sha256File(vm.reference));
    assert.equal(await powerStateOf(dataDir, vm.name), 'PoweredOff', 'no body means no power-on (issue #4 §1)');

    // The session is listed, as a reference and as an entity.
    const refs = await c.get(`${server.http}/api/restoreSessions`);
    const list = format === 'xml' ? refs.body.EntityReferences.Ref : refs.body.Refs;
    assert.ok(list.some((r: any) => r.UID === session.UID && r.Type === 'RestoreSessionReference'));
    const one = await c.get(findLink(session, 'Alternate', 'RestoreSessionReference')!.Href);
    assert.equal(rootOf(one.body, format, 'EntityRef').UID, session.UID);
  });

  test(`QuickRollback in ${format} after 1% of blocks changed writes only those blocks`, async () => {
    const vm = vms[`roll-${format}`];
    const disk = await diskPathOf(dataDir, vm.name);
    await scribble(disk, [1, 100]); // 2 of 200 blocks
    const c = new EmClient(server.http, format);
    const point = await findPointEntity(c, vm.name);
    const body =
      format === 'xml'
        ? `<?xml version="1.0" encoding="utf-8"?>\n<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0">\n <VmRestoreSpec>\n   <PowerOnAfterRestore>true</PowerOnAfterRestore>\n   <QuickRollback>true</QuickRollback>\n </VmRestoreSpec>\n</RestoreSpec>`
        : JSON.stringify({ VmRestoreSpec: { PowerOnAfterRestore: true, QuickRollback: true } });
    const session = await restoreThroughLinks(c, point, body);
    assert.equal(await sha256File(disk), await sha256File(vm.reference));
    const line = (await logLines(c, session)).find((l) => l.startsWith('Disk disk0:'));
    assert.match(line ?? '', /fetched 2 blocks .* wrote 2 blocks, zeroed 0 blocks, left 198 blocks unchanged/);
    assert.equal(await powerStateOf(dataDir, vm.name), 'PoweredOn');
  });
}

test("KeepOriginalVM with seed 001's body builds keep01_restored and leaves keep01 as it is now", async () => {
  const vm = vms.keep01;
  const disk = await diskPathOf(dataDir, vm.name);
  await scribble(disk, [2]);
  const changed = await sha256File(disk);
  const c = new EmClient(server.http, 'xml');
  const session = await restoreThroughLinks(c, await findPointEntity(c, vm.name), SEED_001_KEEP_ORIGINAL);
  assert.equal(await sha256File(await diskPathOf(dataDir, 'keep01_restored')), await sha256File(vm.reference));
  assert.equal(await sha256File(disk), changed, 'the original is untouched');
  assert.match(session.RestoredObjRef, /^urn:VMware:Vm:/);
  await assertLookupFinds(c, session.RestoredObjRef, 'keep01_restored');
});

test("a Cloud Director VM restores as a new VM with seed 001's body, real UIDs substituted", async () => {
  const vm = vms.vcd01;
  const platform = JSON.parse(await readFile(`${dataDir}/platform.json`, 'utf8'));
  const root = platform.hierarchyRoots.find((r: any) => r.platform === 'vcloud');
  const ds = platform.datastores.find((d: any) => d.hierarchyRootId === root.id);
  const body = SEED_001_VCD.replaceAll('1ed39e5b-06e1-4fbb-a106-52537b5e059e', root.id)
    .replace('af9396fb-99e6-4e94-a82a-914cc5a3f810', vm.pointId)
    .replace('9cfafa2e-e57b-4bc5-9690-933947c62b80', ds.id);
  const c = new EmClient(server.http, 'xml');
  const session = await restoreThroughLinks(c, await findPointEntity(c, vm.name), body);
  assert.equal(await sha256File(await diskPathOf(dataDir, 'VM-restored')), await sha256File(vm.reference));
  assert.match(session.RestoredObjRef, /^urn:vCloud:Vm:/);
  await assertLookupFinds(c, session.RestoredObjRef, 'VM-restored');
});

/** The session's RestoredObjRef is the reference the lookup service has for the VM made (constructing_hierarchyobjreftype.md). */
async function assertLookupFinds(c: EmClient, ref: string, vmName: string) {
  const r = await c.get(`${server.http}/api/lookup?hierarchyRef=${encodeURIComponent(ref)}`);
  assert.equal(r.status, 200, r.text);
  const item = [r.body.HierarchyItems.HierarchyItem].flat()[0];
  assert.equal(item?.ObjectName, vmName, `the lookup knows ${ref}: ${r.text}`);
  assert.equal(item.ObjectRef, ref);
}
