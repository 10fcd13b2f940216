// Every RestoreSpec refusal of issue #4 §1 answers 400 with an Error naming its rule, and creates no task (each
// refusal checks the task list before and after).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { prepareDataDir, rootOf, type PreparedVm } from './vm-restore-fixtures.js';
import { fileCleanup } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let server: ServerProcess;
let dataDir: string;
let vms: Record<string, PreparedVm>;
let c: EmClient;
let vcdRoot: string;
let vcdStore: string;
let vsphereRoot: string;

before(async () => {
  ({ dataDir, vms } = await prepareDataDir(cleanup, [
    { name: 'vs01', blocks: 16 },
    { name: 'vcd01', blocks: 16, platform: 'vcloud' },
    { name: 'vcd02', blocks: 16, platform: 'vcloud' },
  ]));
  server = await startServerProcess({ dataDir });
  cleanup.defer(async () => {
    await server?.stop();
  });
  c = new EmClient(server.http, 'xml');
  await c.logOn();
  const platform = JSON.parse(await readFile(`${dataDir}/platform.json`, 'utf8'));
  vcdRoot = platform.hierarchyRoots.find((r: any) => r.platform === 'vcloud').id;
  vsphereRoot = platform.hierarchyRoots.find((r: any) => r.platform === 'vsphere').id;
  vcdStore = platform.datastores.find((d: any) => d.hierarchyRootId === vcdRoot).id;
});

const spec = (inner: string) => `<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><VmRestoreSpec>${inner}</VmRestoreSpec></RestoreSpec>`;
const params = (inner: string) => `<VmRestoreParameters>${inner}</VmRestoreParameters>`;
const pointUid = (id: string) => `<VmRestorePointUid>urn:veeam:VmRestorePoint:${id}</VmRestorePointUid>`;

/** The ids of the tasks the administrator sees. */
async function taskIds(): Promise<string[]> {
  const tasks = await c.get(`${server.http}/api/tasks`);
  assert.equal(tasks.status, 200, tasks.text);
  const listed = tasks.body.Tasks?.Task;
  return (listed === undefined ? [] : Array.isArray(listed) ? listed : [listed]).map((t: any) => String(t.TaskId));
}

/** POSTs a restore, expects it refused naming `rule`, and checks that the refusal created no task. */
async function refused(vm: string, body: string | undefined, rule: RegExp, options: { status?: number; url?: string; contentType?: string } = {}) {
  const url = options.url ?? `${server.http}/api/vmRestorePoints/${vms[vm].pointId}?action=restore`;
  const before = await taskIds();
  const r = await c.request('POST', url, body === undefined ? {} : { body, contentType: options.contentType });
  assert.equal(r.status, options.status ?? 400, r.text);
  const e = rootOf(r.body, 'xml', 'Error');
  assert.match(e.Message, rule);
  assert.deepEqual(await taskIds(), before, `the refusal (${rule}) created no task`);
}

test('vSphere/Hyper-V rules: QuickRollback required, no Cloud Director elements, KeepOriginalVM excludes QuickRollback', async () => {
  await refused('vs01', spec('<PowerOnAfterRestore>false</PowerOnAfterRestore>'), /QuickRollback is required for vSphere/);
  await refused('vs01', spec(`<PowerOnAfterRestore>false</PowerOnAfterRestore><HierarchyRootUid>urn:veeam:HierarchyRoot:${vsphereRoot}</HierarchyRootUid><QuickRollback>false</QuickRollback>`), /HierarchyRootUid belongs to Cloud Director/);
  await refused('vs01', spec(`<PowerOnAfterRestore>false</PowerOnAfterRestore><QuickRollback>false</QuickRollback>${params(pointUid(vms.vs01.pointId))}`), /VmRestoreParameters belongs to Cloud Director/);
  await refused('vs01', spec('<PowerOnAfterRestore>false</PowerOnAfterRestore><QuickRollback>true</QuickRollback><KeepOriginalVM>true</KeepOriginalVM>'), /KeepOriginalVM true requires QuickRollback false/);
  await refused('vs01', JSON.stringify({ VmRestoreSpec: { PowerOnAfterRestore: false, QuickRollback: true, KeepOriginalVM: true } }), /KeepOriginalVM true requires QuickRollback false/, { contentType: 'application/json' });
});

test('XML order and required elements are enforced (seed 001: "make sure that the order of parameters … is correct")', async () => {
  await refused('vs01', spec('<QuickRollback>false</QuickRollback><PowerOnAfterRestore>false</PowerOnAfterRestore>'), /out of order/);
  await refused('vs01', spec('<QuickRollback>false</QuickRollback>'), /Required element 'PowerOnAfterRestore' is missing/);
  await refused('vs01', '<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><Bogus/></RestoreSpec>', /Unexpected element 'Bogus'/);
});

test('Cloud Director rules: HierarchyRootUid and VmRestoreParameters required, no KeepOriginalVM, known root, datastore and point of the same VM', async () => {
  const root = `<HierarchyRootUid>urn:veeam:HierarchyRoot:${vcdRoot}</HierarchyRootUid>`;
  const on = '<PowerOnAfterRestore>false</PowerOnAfterRestore>';
  const own = pointUid(vms.vcd01.pointId);
  await refused('vcd01', spec(`${on}<QuickRollback>false</QuickRollback>${params(own)}`), /HierarchyRootUid is required for Cloud Director/);
  await refused('vcd01', spec(`${on}${root}<QuickRollback>false</QuickRollback>`), /VmRestoreParameters is required for Cloud Director/);
  await refused('vcd01', spec(`${on}${root}<QuickRollback>false</QuickRollback><KeepOriginalVM>true</KeepOriginalVM>${params(own)}`), /KeepOriginalVM is not used for Cloud Director/);
  await refused('vcd01', spec(`${on}<HierarchyRootUid>urn:veeam:HierarchyRoot:00000000-0000-0000-0000-000000000000</HierarchyRootUid>${params(own)}`), /is not a known hierarchy root/);
  await refused('vcd01', spec(`${on}<HierarchyRootUid>urn:veeam:HierarchyRoot:${vsphereRoot}</HierarchyRootUid>${params(own)}`), /is not a Cloud Director host/);
  await refused('vcd01', spec(`${on}${root}${params(`${own}<VmNewName>x1</VmNewName><DatastoreRef>urn:vCloud:Datastore:${vcdRoot}.urn:vcloud:datastore:00000000-0000-0000-0000-000000000000</DatastoreRef>`)}`), /DatastoreRef .* is not a known datastore/);
  await refused('vcd01', spec(`${on}${root}${params(pointUid(vms.vcd02.pointId))}`), /is a restore point of VM vcd02, not of vcd01/);
  await refused('vcd01', spec(`${on}${root}${params(pointUid('00000000-0000-0000-0000-000000000000'))}`), /is not a known VM restore point/);
  await refused('vcd01', spec(`${on}${root}${params(`${own}<VmNewName>vcd02</VmNewName><DatastoreRef>urn:vCloud:Datastore:${vcdRoot}.urn:vcloud:datastore:${vcdStore}</DatastoreRef>`)}`), /a VM named 'vcd02' already exists/);
});

test('a POST without action=restore, or on an unknown point, is refused', async () => {
  await refused('vs01', undefined, /needs \?action=restore \(got no action\)/, { url: `${server.http}/api/vmRestorePoints/${vms.vs01.pointId}` });
  await refused('vs01', undefined, /needs \?action=restore \(got 'mount'\)/, { url: `${server.http}/api/vmRestorePoints/${vms.vs01.pointId}?action=mount` });
  await refused('vs01', undefined, /was not found/, { status: 404, url: `${server.http}/api/vmRestorePoints/00000000-0000-0000-0000-000000000000?action=restore` });
});

test('tasks of other accounts are invisible to non-admins', async () => {
  // The trailing-slash form of the seed's URL works; the task is the administrator's.
  const ok = await c.request('POST', `${server.http}/api/vmRestorePoints/${vms.vs01.pointId}/?action=restore`);
  assert.equal(ok.status, 202, ok.text);
  const taskId = rootOf(ok.body, 'xml', 'Task').TaskId;

  await cliOk(dataDir, ['user', 'add', 'operator', '--password-stdin', '--role', 'restore-operator', '--scope', 'all'], { input: 'Operator-pass-1\n' });
  const op = new EmClient(server.http, 'json');
  assert.equal((await op.logOn('operator', 'Operator-pass-1')).status, 201);
  assert.equal((await op.get(`${server.http}/api/tasks/${taskId}`)).status, 404);
  assert.equal((await op.request('DELETE', `${server.http}/api/tasks/${taskId}`)).status, 404);
  assert.deepEqual((await op.get(`${server.http}/api/tasks`)).body.Tasks, []);
  assert.equal((await c.get(`${server.http}/api/tasks/task-999999`)).status, 404);
});
