import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, linksOf, openemDetails, waitFor, type Format } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();
let server: ServerProcess;
let dataDir: string;

function guestTree(dir: string, label: string) {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  mkdirSync(join(dir, 'srv', 'data'), { recursive: true });
  writeFileSync(join(dir, 'etc', 'hostname'), `${label}\n`);
  writeFileSync(join(dir, 'srv', 'data', 'report-2026.txt'), `quarterly report of ${label}\n`.repeat(1000));
}

before(async () => {
  dataDir = tempDir(cleanup, 'openem-inv-');
  const src = tempDir(cleanup, 'openem-inv-src-');
  guestTree(join(src, 'a'), 'alpha');
  guestTree(join(src, 'b'), 'beta');
  await cliOk(dataDir, ['vm', 'create', 'alpha', '--from-dir', join(src, 'a'), '--size', '64M', '--platform', 'vsphere']);
  await cliOk(dataDir, ['vm', 'create', 'beta', '--from-dir', join(src, 'b'), '--size', '64M', '--platform', 'hyperv']);
  await cliOk(dataDir, ['backup', 'alpha', 'beta']);
  await cliOk(dataDir, ['backup', 'alpha']);
  await cliOk(dataDir, ['job', 'create', 'Nightly', '--vm', 'alpha,beta']);
  server = await startServerProcess({ dataDir });
  cleanup.defer(() => server.stop());
});

for (const format of ['xml', 'json'] as Format[]) {
  test(`a client follows links from the logon session to a VM restore point entity (${format})`, async () => {
    const c = new EmClient(server.http, format);
    const logon = await c.logOn();
    assert.equal(logon.status, 201);
    const session = format === 'xml' ? logon.body.LogonSession : logon.body;
    const down = findLink(session, 'Down', 'VmRestorePointReferenceList');
    assert.ok(down, 'logon session links to the VM restore points');
    const list = await c.get(down.Href);
    assert.equal(list.status, 200);
    const refs = format === 'xml' ? list.body.EntityReferences.Ref : list.body.Refs;
    assert.equal(refs.length, 3, 'alpha twice, beta once');
    for (const r of refs) {
      assert.equal(r.Type, 'VmRestorePointReference');
      assert.match(r.UID, /^urn:veeam:VmRestorePoint:[0-9a-f-]{36}$/);
      assert.match(r.Name, /^(alpha|beta)@\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.ok(findLink(r, 'Up', 'RestorePointReference'));
    }
    const alt = findLink(refs[0], 'Alternate', 'VmRestorePoint');
    const entity = await c.get(alt!.Href);
    assert.equal(entity.status, 200);
    const vrp = format === 'xml' ? entity.body.VmRestorePoint : entity.body;
    assert.equal(vrp.Type, 'VmRestorePoint');
    assert.ok(findLink(vrp, 'Restore'), 'entity has the Restore link');
    assert.ok(findLink(vrp, 'Create', 'VmRestorePointMount'));
    assert.ok(findLink(vrp, 'Down', 'VmRestorePointMountList'));
    assert.match(vrp.CreationTimeUTC, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(['Full', 'Increment'].includes(vrp.PointType));
    if (format === 'xml') {
      const order = [...entity.text.matchAll(/<(Links|CreationTimeUTC|VmName|Algorithm|PointType|HierarchyObjRef)>/g)].map((m) => m[1]);
      assert.deepEqual(order, ['Links', 'CreationTimeUTC', 'VmName', 'Algorithm', 'PointType', 'HierarchyObjRef'], 'XSD element order');
    }
    const up = await c.get(findLink(vrp, 'Up', 'RestorePointReference')!.Href + '?format=Entity');
    assert.equal(up.status, 200);
  });
}

test('every collection of the logon session answers in XML and JSON', async () => {
  for (const format of ['xml', 'json'] as Format[]) {
    const c = new EmClient(server.http, format);
    const logon = await c.logOn();
    const session = format === 'xml' ? logon.body.LogonSession : logon.body;
    const down = linksOf(session).filter((l) => l.Rel === 'Down');
    // The loop below proves something only if the session links the collections a client needs.
    // logging_on.md's example, in its order (clients index these by position too), less what openem does not serve.
    assert.deepEqual(
      down.map((l) => l.Type),
      ['BackupServerReferenceList', 'ManagedServerReferenceList', 'JobReferenceList', 'FailoverPlanReferenceList', 'HierarchyRootReferenceList', 'RepositoryReferenceList',
        'BackupReferenceList', 'RestorePointReferenceList', 'VmRestorePointReferenceList', 'VAppRestorePointReferenceList', 'ReplicaReferenceList', 'VmReplicaPointReferenceList',
        'CatalogVmReferenceList', 'BackupJobSessionReferenceList', 'RestoreSessionReferenceList', 'ReplicaJobSessionReferenceList', 'BackupTaskSessionReferenceList',
        'ReplicaTaskSessionReferenceList', 'WanAcceleratorReferenceList', 'BackupFileReferenceList', 'ExternalRepositoryReferenceList', 'TaskList', 'QueryService', 'LookupService',
        'Report', 'BackupServerList', 'ManagedServerList', 'JobList', 'FailoverPlanList', 'HierarchyRootList', 'RepositoryList', 'BackupList', 'RestorePointList', 'VmRestorePointList',
        'VAppRestorePointList', 'ReplicaList', 'VmReplicaPointList', 'CatalogVmList', 'BackupJobSessionList', 'RestoreSessionList', 'ReplicaJobSessionList', 'BackupTaskSessionList',
        'ReplicaTaskSessionList', 'WanAcceleratorList', 'BackupFileList', 'ExternalRepositoryList'],
      `Down links of the logon session (${format})`,
    );
    for (const link of down) {
      const r = await c.get(link.Href);
      assert.equal(r.status, 200, `${link.Type} ${link.Href} (${format}) → ${r.status} ${r.text}`);
    }
  }
});

test('hierarchy roots, backup servers, jobs, backups and restore points render entities', async () => {
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const roots = await c.get(`${server.http}/api/hierarchyRoots?format=Entity`);
  assert.deepEqual(roots.body.HierarchyRoots.map((r: any) => r.HostType).sort(), ['HyperV', 'VC', 'VcdSystem']);
  const servers = await c.get(`${server.http}/api/backupServers`);
  const bs = await c.get(findLink(servers.body.Refs[0], 'Alternate')!.Href);
  assert.equal(bs.body.Port, 9392);
  // get_backupservers_id.md: Version in VBR's build format, which collectors look up in their build tables.
  assert.match(bs.body.Version, /^\d+\.\d+\.\d+\.\d+$/);
  const jobs = await c.get(`${server.http}/api/jobs?format=Entity`);
  assert.ok(jobs.body.Jobs.some((j: any) => j.Name === 'Nightly'));
  // A job's and a backup's Platform is its VMs' (issue #10 item 7): beta is a Hyper-V VM, alpha a vSphere one.
  const platformOf = (list: any[], name: string) => list.find((j: any) => j.Name === name)?.Platform;
  assert.equal(platformOf(jobs.body.Jobs, 'Backup beta'), 'HyperV');
  assert.equal(platformOf(jobs.body.Jobs, 'Backup alpha'), 'VMware');
  const nightly = jobs.body.Jobs.find((j: any) => j.Name === 'Nightly');
  assert.deepEqual(nightly.JobInfo.BackupJobInfo.Includes.ObjectInJobs.map((o: any) => o.Name), ['alpha', 'beta'], 'Includes are the job\'s VMs');
  assert.match(nightly.JobInfo.BackupJobInfo.Includes.ObjectInJobs[1].HierarchyObjRef, /^urn:HyperV:Vm:/);
  assert.equal(nightly.ScheduleConfigured, false);
  assert.equal(nightly.NextRun, null, 'no schedule, no next run');
  const backupEntities = (await c.get(`${server.http}/api/backups?format=Entity`)).body.Backups;
  assert.equal(platformOf(backupEntities, 'Backup beta'), 'HyperV');
  assert.ok(backupEntities.every((b: any) => b.BackupType === 'Standard'));
  const rps = await c.get(`${server.http}/api/restorePoints`);
  assert.equal(rps.body.Refs.length, 3, 'CLI backups without a job are one restore point per VM and run');
  for (const rp of rps.body.Refs) {
    assert.match(rp.Name, /^[A-Z][a-z]{2} [ \d]\d \d{4} [ \d]\d:\d\d(AM|PM)$/);
    const e = await c.get(findLink(rp, 'Alternate')!.Href);
    const vms = await c.get(findLink(e.body, 'Down', 'VmRestorePointReferenceList')!.Href);
    assert.ok(vms.body.Refs.length >= 1);
  }
  const backups = await c.get(`${server.http}/api/backups`);
  assert.equal(backups.body.Refs.length, 2, 'one backup per default job that has points');
});

test('query service filters, sorts and pages VM restore points', async () => {
  const c = new EmClient(server.http, 'xml');
  await c.logOn();
  const r = await c.get(`${server.http}/api/query?type=vmrestorepoint&format=Entities&sortDesc=CreationTime&pageSize=1&page=1&filter=VmDisplayName==alpha`);
  assert.equal(r.status, 200);
  const q = r.body.QueryResult;
  assert.equal(q.Entities.VmRestorePoints.VmRestorePoint.length, 1);
  assert.equal(q.Entities.VmRestorePoints.VmRestorePoint[0].PointType, 'Increment', 'newest alpha point first');
  assert.equal(q.PagingInfo.PagesCount, '2');
  assert.match(r.text, /page=2/);
  assert.match(r.text, /&amp;/, 'hrefs escape & as &amp;');
  const both = await c.get(`${server.http}/api/query?type=VmRestorePoint&filter=${encodeURIComponent('(VmDisplayName==alpha;PointType==Full),VmDisplayName=="beta"')}`);
  assert.equal(both.body.QueryResult.Refs.Ref.length, 2);
  const bad = await c.get(`${server.http}/api/query?type=VmRestorePoint&filter=Nonsense==1`);
  assert.equal(bad.status, 400);
  assert.match(bad.body.Error.Message, /unknown field/);
  const badType = await c.get(`${server.http}/api/query?type=Nope`);
  assert.equal(badType.status, 400);
});

test('catalog lists VMs and their indexed points, and finds files by name', async () => {
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const vms = await c.get(`${server.http}/api/catalog/vms`);
  assert.deepEqual(vms.body.Refs.map((r: any) => r.Name), ['alpha', 'beta']);
  const points = await c.get(findLink(vms.body.Refs[0], 'Down')!.Href + '?format=Entity');
  assert.equal(points.body.CatalogVmRestorePoints.length, 2);
  assert.equal(points.body.CatalogVmRestorePoints[0].IndexState, undefined, 'EM\'s CatalogVmRestorePoint has no IndexState');
  assert.equal((await openemDetails(c, points.body.CatalogVmRestorePoints[0], 'CatalogIndexState')).IndexState, 'Indexed');
  const hits = await c.get(`${server.http}/api/catalog/search?name=report-*.txt&vm=beta`);
  assert.equal(hits.body.CatalogFiles.length, 1);
  assert.equal(hits.body.CatalogFiles[0].Path, '/srv/data/report-2026.txt');
  assert.equal(hits.body.CatalogFiles[0].Size, 'quarterly report of beta\n'.length * 1000);
});

test('unknown ids get 404 with an Error body', async () => {
  const c = new EmClient(server.http, 'xml');
  await c.logOn();
  for (const path of ['vmRestorePoints', 'restorePoints', 'jobs', 'backups', 'hierarchyRoots', 'backupServers']) {
    const r = await c.get(`${server.http}/api/${path}/00000000-0000-0000-0000-000000000000?format=Entity`);
    assert.equal(r.status, 404, path);
    assert.equal(r.body.Error.StatusCode, '404');
    assert.equal(r.body.Error.Status, 'NotFound');
  }
  const cat = await c.get(`${server.http}/api/catalog/vms/nosuchvm/vmRestorePoints/00000000-0000-0000-0000-000000000000`);
  assert.equal(cat.status, 404);
});

test('starting a job over the API backs its VMs up as one restore point', async () => {
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const jobs = await c.get(`${server.http}/api/jobs?format=Entity`);
  const nightly = jobs.body.Jobs.find((j: any) => j.Name === 'Nightly');
  const start = await c.request('POST', findLink(nightly, 'Start')!.Href);
  assert.equal(start.status, 202);
  assert.equal(start.body.Operation, 'StartJob');
  assert.equal(start.body.State, 'Running');
  const taskHref = findLink(start.body, 'Delete', 'Task')!.Href;
  await waitFor('job start task', async () => {
    const t = await c.get(taskHref);
    return t.body.State === 'Finished' ? t : undefined;
  });
  const points = await waitFor('job restore point', async () => {
    const r = await c.get(`${server.http}/api/query?type=VmRestorePoint`);
    return r.body.Refs.Refs.length === 5 ? r : undefined;
  });
  assert.equal(points.body.Refs.Refs.length, 5);
  const rps = await c.get(`${server.http}/api/restorePoints`);
  assert.equal(rps.body.Refs.length, 4, 'the job run is one restore point holding both VMs');
});
