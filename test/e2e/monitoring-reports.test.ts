import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, statfsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, linksOf, type Format } from '../helpers/em-client.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { createBackedUpVm, damageDisk } from '../helpers/vm-fixture.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let server: ServerProcess;
let dataDir: string;
const MiB = 2 ** 20;
/** `openem backup --json` output per backup, by VM and point type. */
const stored: Record<string, number> = {};

interface Manifest {
  id: string;
  restorePointId: string;
  jobId: string;
  vmId: string;
  vmName: string;
  createdAt: string;
  pointType: 'Full' | 'Increment';
  disks: { name: string; size: number; blocks: (string | null)[] }[];
}

const repoDir = () => join(dataDir, 'repository');
const manifests = (): Manifest[] => readdirSync(join(repoDir(), 'manifests')).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(repoDir(), 'manifests', f), 'utf8')));

function folderBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? folderBytes(join(dir, e.name)) : e.isFile() ? statSync(join(dir, e.name)).size : 0;
  return n;
}

/** A report frame's root in either format. */
function frame(body: any, format: Format, name: string): any {
  if (format === 'json') return body;
  assert.ok(body[name], `expected <${name}>`);
  return body[name];
}

const num = (v: unknown) => Number(v);

before(async () => {
  dataDir = tempDir(cleanup, 'openem-reports-');
  // alpha first into an empty repository: every block of its Full is new, so its stored bytes are its point's.
  const alpha = await createBackedUpVm(dataDir, 'alpha', { sizeMiB: 64, payloadMiB: 4 });
  const beta = await createBackedUpVm(dataDir, 'beta', { sizeMiB: 64, payloadMiB: 2 });
  void beta;
  damageDisk(alpha.image, 40);
  const inc = JSON.parse(await cliOk(dataDir, ['backup', 'alpha', '--json']));
  assert.equal(inc[0].pointType, 'Increment');
  assert.equal(inc[0].stats.blocksNew, 1, 'one changed MiB');
  stored[inc[0].id] = inc[0].stats.bytesStored;
  await createBackedUpVm(dataDir, 'gone', { sizeMiB: 32, payloadMiB: 1 });
  await cliOk(dataDir, ['job', 'create', 'Broken', '--vm', 'alpha,gone']);
  await cliOk(dataDir, ['vm', 'rm', 'gone']);
  const broken = await runCli(dataDir, ['backup', '--job', 'Broken', 'alpha', 'gone']);
  assert.notEqual(broken.code, 0, 'a run with a VM that no longer exists fails');
  assert.match(broken.stderr, /VM gone was not found/);
  server = await startServerProcess({ dataDir });
  cleanup.defer(async () => {
    await server?.stop();
  });
});


for (const format of ['xml', 'json'] as Format[]) {
  test(`/reports/summary links its five reports and each answers with the XSD's elements in order (${format})`, async () => {
    const c = new EmClient(server.http, format);
    await c.logOn();
    const summary = await c.get(`${server.http}/api/reports/summary`);
    assert.equal(summary.status, 200);
    const hrefs = linksOf(frame(summary.body, format, 'SummaryReport')).map((l) => l.Href.replace(`${server.http}/api`, ''));
    assert.deepEqual(hrefs, ['/reports/summary/overview', '/reports/summary/vms_overview', '/reports/summary/job_statistics', '/reports/summary/processed_vms', '/reports/summary/repository']);
    const expected: Record<string, string[]> = {
      overview: ['BackupServers', 'ProxyServers', 'RepositoryServers', 'RunningJobs', 'ScheduledJobs', 'SuccessfulVmLastestStates', 'WarningVmLastestStates', 'FailedVmLastestStates'],
      vms_overview: ['ProtectedVms', 'BackedUpVms', 'ReplicatedVms', 'RestorePoints', 'FullBackupPointsSize', 'IncrementalBackupPointsSize', 'ReplicaRestorePointsSize', 'SourceVmsSize', 'SuccessBackupPercents', 'ProtectedVmsReportLink'],
      job_statistics: ['RunningJobs', 'ScheduledJobs', 'ScheduledBackupJobs', 'ScheduledReplicaJobs', 'TotalJobRuns', 'SuccessfulJobRuns', 'WarningsJobRuns', 'FailedJobRuns', 'MaxJobDuration', 'MaxBackupJobDuration', 'MaxReplicaJobDuration', 'MaxDurationBackupJobName', 'MaxDurationReplicaJobName', 'BackupJobStatusReportLink'],
    };
    for (const [path, names] of Object.entries(expected)) {
      const r = await c.get(`${server.http}/api/reports/summary/${path}`);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      if (format === 'xml') {
        const order = [...r.text.matchAll(/<([A-Za-z]+)>/g)].map((m) => m[1]);
        assert.deepEqual(order, names, `${path} element order`);
      } else {
        assert.deepEqual(Object.keys(r.body).filter((k) => k !== 'Href' && k !== 'Type'), names, `${path} property order`);
      }
    }
  });
}

test('vms_overview counts the repository\'s points and VMs and sizes them as their manifests and backups say', async () => {
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const all = manifests();
  const r = (await c.get(`${server.http}/api/reports/summary/vms_overview`)).body;
  assert.equal(num(r.RestorePoints), all.length, 'one VM restore point per manifest');
  assert.equal(all.length, 5, 'alpha Full, beta Full, alpha Increment, alpha in the Broken run, gone Full');
  const vms = new Set(all.map((m) => m.vmId));
  assert.equal(num(r.ProtectedVms), vms.size);
  assert.equal(num(r.BackedUpVms), vms.size);
  assert.equal(num(r.ReplicatedVms), 0);
  const newest = new Map<string, Manifest>();
  for (const m of all) if (!newest.has(m.vmId) || m.createdAt > newest.get(m.vmId)!.createdAt) newest.set(m.vmId, m);
  assert.equal(num(r.SourceVmsSize), [...newest.values()].reduce((n, m) => n + m.disks.reduce((k, d) => k + d.size, 0), 0));

  const files = (await c.get(`${server.http}/api/backupFiles?format=Entity`)).body.BackupFiles;
  assert.equal(files.length, all.length, 'one backup file per manifest');
  const byId = new Map(all.map((m) => [m.id, m]));
  for (const f of files) {
    const m = byId.get(f.UID.split(':').pop())!;
    assert.ok(m, `backup file ${f.Name} is a manifest`);
    assert.equal(f.FileType, m.pointType === 'Full' ? 'vbk' : 'vib');
    assert.equal(f.FilePath, `manifests/${m.id}.json`);
    const dataBlocks = m.disks.reduce((n, d) => n + d.blocks.filter((b) => b !== null).length, 0);
    assert.equal(num(f.DataSize), dataBlocks * MiB, 'DataSize: every non-hole block of the manifest');
    if (stored[m.id] !== undefined) assert.equal(num(f.BackupSize), stored[m.id], "the increment's BackupSize is what its backup stored");
  }
  const alphaFull = files.find((f: any) => byId.get(f.UID.split(':').pop())!.vmName === 'alpha' && f.FileType === 'vbk');
  assert.ok(num(alphaFull.BackupSize) > 4 * MiB * 0.9, 'the Full holds the random payload, barely compressible');
  const sum = (type: string) => files.filter((f: any) => f.FileType === type).reduce((n: number, f: any) => n + num(f.BackupSize), 0);
  assert.equal(num(r.FullBackupPointsSize), sum('vbk'));
  assert.equal(num(r.IncrementalBackupPointsSize), sum('vib'));
  assert.ok(num(r.IncrementalBackupPointsSize) >= MiB * 0.9, 'the changed MiB of random data');
  assert.equal(num(r.SuccessBackupPercents), 67, 'alpha and beta last succeeded, gone last failed');
});

test('the repository report and /repositories give statfs capacity and free space of the repository folder and its real size', async () => {
  const c = new EmClient(server.http, 'xml');
  await c.logOn();
  const fsBefore = statfsSync(repoDir());
  const report = await c.get(`${server.http}/api/reports/summary/repository`);
  const repo = await c.get(`${server.http}/api/repositories?format=Entity`);
  const fsAfter = statfsSync(repoDir());
  const period = report.body.RepositoryReportFrame.Period;
  assert.ok(!Array.isArray(period), 'one repository, one Period');
  const capacity = fsBefore.blocks * fsBefore.bsize;
  assert.equal(num(period.Capacity), capacity);
  const free = [fsBefore.bavail * fsBefore.bsize, fsAfter.bavail * fsAfter.bsize];
  // Other processes write to the same file system: the figure lies between the readings around it, give or take.
  const slack = 256 * MiB;
  assert.ok(num(period.FreeSpace) >= Math.min(...free) - slack && num(period.FreeSpace) <= Math.max(...free) + slack, `FreeSpace ${period.FreeSpace} near ${free}`);
  assert.equal(num(period.BackupSize), folderBytes(repoDir()), 'BackupSize: the bytes of the repository folder');
  assert.equal(period.Name, 'openem repository');

  const entity = repo.body.Repositories.Repository;
  assert.equal(entity.Name, period.Name);
  assert.equal(num(entity.Capacity), capacity);
  assert.equal(entity.Kind, 'LinuxLocal');
  assert.deepEqual(linksOf(entity).map((l) => `${l.Rel} ${l.Type}`), ['Up BackupServerReference', 'Alternate RepositoryReference', 'Down BackupReferenceList', 'Down ReplicaReferenceList']);
  const order = [...repo.text.matchAll(/<(Capacity|FreeSpace|Kind)>/g)].map((m) => m[1]);
  assert.deepEqual(order, ['Capacity', 'FreeSpace', 'Kind'], 'repositories_id.md order');
  const backups = await c.get(findLink(entity, 'Down', 'BackupReferenceList')!.Href);
  assert.equal(backups.body.EntityReferences.Ref.length, new Set(manifests().map((m) => m.jobId)).size, 'one backup per job with points');
  const replicas = await c.get(findLink(entity, 'Down', 'ReplicaReferenceList')!.Href);
  assert.equal(replicas.status, 200);

  const j = new EmClient(server.http, 'json');
  await j.logOn();
  const roomy = await j.get(`${server.http}/api/query?type=Repository&format=Entities&filter=${encodeURIComponent(`FreeSpace<${capacity + 1}`)}`);
  assert.equal(roomy.body.Entities.Repositories.Repositories.length, 1);
  const none = await j.get(`${server.http}/api/query?type=Repository&filter=${encodeURIComponent(`Capacity>${capacity}`)}`);
  assert.equal(none.body.Refs.Refs.length, 0);
});

test('job_statistics and overview count the runs and the latest VM results the store holds', async () => {
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const db = new Database(join(dataDir, 'state.db'), { readonly: true, fileMustExist: true });
  let sessions: { job_name: string; state: string; result: string; created_at: number; end_at: number | null }[];
  let tasks: { vm_name: string; result: string; end_at: number | null }[];
  try {
    sessions = db.prepare('select job_name, state, result, created_at, end_at from backup_job_sessions').all() as typeof sessions;
    tasks = db.prepare("select vm_name, result, end_at from backup_task_sessions where state = 'Completed'").all() as typeof tasks;
  } finally {
    db.close();
  }
  const stats = (await c.get(`${server.http}/api/reports/summary/job_statistics`)).body;
  assert.equal(stats.TotalJobRuns, sessions.length);
  assert.equal(sessions.length, 5, 'four CLI runs of one VM each and the Broken run');
  assert.equal(stats.SuccessfulJobRuns, sessions.filter((s) => s.result === 'Success').length);
  assert.equal(stats.FailedJobRuns, 1);
  assert.equal(stats.WarningsJobRuns, 0);
  assert.equal(stats.RunningJobs, 0);
  const longestMs = Math.max(...sessions.map((s) => s.end_at! - s.created_at));
  assert.equal(stats.MaxJobDuration, Math.round(longestMs / 1000));
  assert.equal(stats.MaxBackupJobDuration, stats.MaxJobDuration);
  // Two runs may take the same number of milliseconds (a CLI backup of a small VM takes well under a second): any
  // job with the longest run is right.
  const longestJobs = sessions.filter((s) => s.end_at! - s.created_at === longestMs).map((s) => s.job_name);
  assert.ok(longestJobs.includes(stats.MaxDurationBackupJobName), `${stats.MaxDurationBackupJobName} is one of ${longestJobs.join(', ')}`);
  const listed = (await c.get(`${server.http}/api/backupSessions`)).body.Refs;
  assert.equal(listed.length, sessions.length, '/backupSessions lists the same runs');

  const latest = new Map<string, { at: number; result: string }>();
  for (const t of tasks) if (!latest.has(t.vm_name) || t.end_at! > latest.get(t.vm_name)!.at) latest.set(t.vm_name, { at: t.end_at!, result: t.result });
  const overview = (await c.get(`${server.http}/api/reports/summary/overview`)).body;
  assert.equal(overview.SuccessfulVmLastestStates, [...latest.values()].filter((v) => v.result === 'Success').length);
  assert.equal(overview.FailedVmLastestStates, [...latest.values()].filter((v) => v.result === 'Failed').length);
  assert.deepEqual([overview.SuccessfulVmLastestStates, overview.WarningVmLastestStates, overview.FailedVmLastestStates], [2, 0, 1]);
  assert.deepEqual([overview.BackupServers, overview.RunningJobs, overview.ScheduledJobs], [1, 0, 0]);
});

test('processed_vms gives the last 7 UTC days, today with the VMs that got a restore point today', async () => {
  const c = new EmClient(server.http, 'xml');
  await c.logOn();
  const r = await c.get(`${server.http}/api/reports/summary/processed_vms`);
  const days = r.body.ProcessedVmsReportFrame.Day;
  assert.equal(days.length, 7);
  const today = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000).toISOString().replace('.000Z', 'Z');
  assert.equal(days[6].Timestamp, today);
  const todays = new Set(manifests().filter((m) => m.createdAt.slice(0, 10) === today.slice(0, 10)).map((m) => m.vmId));
  assert.equal(num(days[6].BackupedVms), todays.size);
  assert.equal(todays.size, 3);
  assert.ok(days.slice(0, 6).every((d: any) => d.BackupedVms === '0' && d.ReplicatedVms === '0'));
});

test('VM restore points, restore points and backups link to their backup files as the em13 pages do', async () => {
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const points = (await c.get(`${server.http}/api/vmRestorePoints?format=Entity`)).body.VmRestorePoints;
  for (const p of points) {
    // vmrestorepoints_id.md: Restore, Up server, Up restore point, Up backup file, Alternate, … (a client reads Links[3]).
    assert.equal(p.Links[3].Rel, 'Up');
    assert.equal(p.Links[3].Type, 'BackupFileReference');
    assert.equal(p.Links[4].Rel, 'Alternate');
    const file = await c.get(p.Links[3].Href + '?format=Entity');
    assert.equal(file.status, 200);
    assert.equal(file.body.UID, `urn:veeam:BackupFile:${p.UID.split(':').pop()}`);
    assert.equal(file.body.FileType, p.PointType === 'Full' ? 'vbk' : 'vib');
    const inFile = await c.get(findLink(file.body, 'Down', 'VmRestorePointReferenceList')!.Href);
    assert.deepEqual(inFile.body.Refs.map((r: any) => r.UID), [p.UID]);
    const rpOfFile = await c.get(findLink(file.body, 'Related', 'BackupFileReferenceList')!.Href);
    assert.equal(rpOfFile.body.Refs.length, 1);
    assert.equal(rpOfFile.body.Refs[0].Href, findLink(p, 'Up', 'RestorePointReference')!.Href);
  }
  const rps = (await c.get(`${server.http}/api/restorePoints?format=Entity`)).body.RestorePoints;
  let total = 0;
  for (const rp of rps) {
    assert.deepEqual(linksOf(rp).map((l) => `${l.Rel} ${l.Type}`), ['Up BackupReference', 'Up BackupServerReference', 'Alternate RestorePointReference', 'Down VmRestorePointReferenceList', 'Related RestorePointReferenceList']);
    const files = await c.get(findLink(rp, 'Related', 'RestorePointReferenceList')!.Href);
    const vms = await c.get(findLink(rp, 'Down', 'VmRestorePointReferenceList')!.Href);
    assert.equal(files.body.Refs.length, vms.body.Refs.length, 'a backup file per VM restore point');
    total += files.body.Refs.length;
  }
  assert.equal(total, manifests().length);
  const backups = (await c.get(`${server.http}/api/backups`)).body.Refs;
  for (const b of backups) {
    assert.deepEqual(linksOf(b).slice(0, 5).map((l) => `${l.Rel} ${l.Type}`), ['Up RepositoryReference', 'Up BackupServerReference', 'Alternate Backup', 'Down RestorePointReferenceList', 'Down BackupFileReferenceList']);
    const repo = await c.get(findLink(b, 'Up', 'RepositoryReference')!.Href);
    assert.equal(repo.status, 200);
    const files = await c.get(findLink(b, 'Down', 'BackupFileReferenceList')!.Href + '?format=Entity');
    const jobId = b.UID.split(':').pop();
    assert.equal(files.body.BackupFiles.length, manifests().filter((m) => m.jobId === jobId).length);
  }
});

for (const format of ['xml', 'json'] as Format[]) {
  test(`/managedServers shows the openem host as a Linux managed server (${format})`, async () => {
    const c = new EmClient(server.http, format);
    await c.logOn();
    const list = await c.get(`${server.http}/api/managedServers`);
    const refs = format === 'xml' ? list.body.EntityReferences.Ref : list.body.Refs;
    assert.equal(refs.length, 1);
    assert.equal(refs[0].Type, 'ManagedServerReference');
    const e = await c.get(findLink(refs[0], 'Alternate')!.Href);
    const s = format === 'xml' ? e.body.ManagedServer : e.body;
    assert.equal(s.Name, hostname());
    assert.equal(s.ManagedServerType, 'Linux');
    assert.match(s.UID, /^urn:veeam:ManagedServer:[0-9a-f-]{36}$/);
    assert.deepEqual(linksOf(s).map((l) => `${l.Rel} ${l.Type}`), ['Up BackupServer', 'Alternate ManagedServerReference']);
    const server1 = await c.get(findLink(s, 'Up', 'BackupServer')!.Href);
    assert.equal(server1.status, 200);
    const q = await c.get(`${server.http}/api/query?type=ManagedServer&filter=ManagedServerType==Linux`);
    assert.equal(q.status, 200);
  });
}
