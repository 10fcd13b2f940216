import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { startServerProcess, ADMIN_PASSWORD, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, linksOf, waitFor, type Format } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let server: ServerProcess;
let dataDir: string;
const MiB = 2 ** 20;

const asArray = (x: any): any[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** A Linux VM through the CLI with `payloadMiB` of random data in its guest. */
async function createVm(name: string, sizeMiB: number, payloadMiB: number): Promise<void> {
  const src = tempDir(cleanup, `openem-bs-${name}-`);
  mkdirSync(join(src, 'etc'));
  writeFileSync(join(src, 'etc', 'hostname'), `${name}\n`);
  writeFileSync(join(src, 'payload.bin'), randomBytes(payloadMiB * MiB));
  await cliOk(dataDir, ['vm', 'create', name, '--from-dir', src, '--size', `${sizeMiB}M`]);
}

/**
 * Entities of a list (`{"BackupJobSessions":[…]}`) or of a query result, whose JSON nests the list in its wrapper
 * (`{"Entities":{"BackupJobSessions":{"BackupJobSessions":[…]}}}`, em-clients.md).
 */
function entities(body: any, format: Format, plural: string, singular: string, query = false): any[] {
  if (format === 'xml') return asArray((query ? body.QueryResult.Entities : body)[plural]?.[singular]);
  const list = query ? body.Entities[plural][plural] : body[plural];
  assert.ok(Array.isArray(list), `${plural} is an array: ${JSON.stringify(body).slice(0, 200)}`);
  return list;
}

function refs(body: any, format: Format, query = false): any[] {
  if (format === 'xml') return asArray((query ? body.QueryResult.Refs : body.EntityReferences)?.Ref);
  return query ? body.Refs.Refs : body.Refs;
}

async function jobId(c: EmClient, name: string): Promise<string> {
  const jobs = await c.get(`${server.http}/api/jobs?format=Entity`);
  const job = entities(jobs.body, c.format, 'Jobs', 'Job').find((j: any) => j.Name === name);
  assert.ok(job, `job ${name} is listed`);
  return job.UID.split(':').pop();
}

/** Starts a job over the API and waits until its newest session has stopped. */
async function runJobOverApi(c: EmClient, name: string): Promise<any> {
  const id = await jobId(c, name);
  const before = refs((await c.get(`${server.http}/api/jobs/${id}/backupSessions`)).body, c.format).length;
  const start = await c.request('POST', `${server.http}/api/jobs/${id}?action=start`);
  assert.equal(start.status, 202, start.text);
  return waitFor(`a stopped session of job ${name}`, async () => {
    const list = entities((await c.get(`${server.http}/api/jobs/${id}/backupSessions?format=Entity`)).body, c.format, 'BackupJobSessions', 'BackupJobSession');
    return list.length > before && list[0].State === 'Stopped' ? list[0] : undefined;
  }, 120_000, 200);
}

before(async () => {
  dataDir = tempDir(cleanup, 'openem-bs-');
  await createVm('alpha', 64, 4);
  await createVm('beta', 64, 2);
  await createVm('gone', 32, 1);
  await createVm('big1', 160, 100);
  await createVm('big2', 160, 100);
  await createVm('big3', 160, 100);
  await createVm('cli1', 384, 300);
  await cliOk(dataDir, ['backup', 'alpha', 'beta']);
  await cliOk(dataDir, ['job', 'create', 'Pair', '--vm', 'alpha,beta']);
  await cliOk(dataDir, ['job', 'create', 'Broken', '--vm', 'alpha,gone']);
  await cliOk(dataDir, ['job', 'create', 'Big', '--vm', 'big1,big2,big3']);
  await cliOk(dataDir, ['vm', 'rm', 'gone']);
  server = await startServerProcess({ dataDir });
  cleanup.defer(async () => {
    await server?.stop();
  });
});


for (const format of ['xml', 'json'] as Format[]) {
  test(`each CLI backup run is a stopped, successful backup job session with one task session per VM (${format})`, async () => {
    const c = new EmClient(server.http, format);
    await c.logOn();
    const r = await c.get(`${server.http}/api/backupSessions?format=Entity`);
    assert.equal(r.status, 200, r.text);
    const cliRuns = entities(r.body, format, 'BackupJobSessions', 'BackupJobSession').filter((s: any) => /^Backup (alpha|beta)@/.test(s.Name));
    assert.equal(cliRuns.length, 2, '`openem backup alpha beta` runs each VM under its own default job');
    for (const s of cliRuns) {
      assert.match(s.Name, /^Backup (alpha|beta)@\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.match(s.UID, /^urn:veeam:BackupJobSession:[0-9a-f-]{36}$/);
      assert.equal(s.JobName, s.Name.split('@')[0]);
      assert.equal(s.JobType, 'Backup');
      assert.equal(s.State, 'Stopped');
      assert.equal(s.Result, 'Success');
      assert.equal(String(s.Progress), '100');
      assert.equal(String(s.IsRetry), 'false');
      if (format === 'json') assert.equal(s.FailureMessage, null, 'EM JSON writes the absent FailureMessage as null');
      assert.match(s.CreationTimeUTC, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.ok(Date.parse(s.EndTimeUTC) >= Date.parse(s.CreationTimeUTC));
      assert.deepEqual(linksOf(s).map((l) => `${l.Rel} ${l.Type ?? ''}`), [
        'Up BackupServerReference', 'Up JobReference', 'Alternate BackupJobSessionReference', 'Down BackupTaskSessionReferenceList', 'Stop ', 'Related RestorePointReference',
      ], 'links in the order of backupsessions_id.md');
      const tasks = entities((await c.get(findLink(s, 'Down', 'BackupTaskSessionReferenceList')!.Href + '?format=Entity')).body, format, 'BackupTaskSessions', 'BackupTaskSession');
      assert.equal(tasks.length, 1);
      const t = tasks[0];
      assert.equal(t.VmDisplayName, s.JobName.replace('Backup ', ''));
      assert.equal(t.JobSessionUid, s.UID);
      assert.equal(t.State, 'Completed');
      assert.equal(t.Result, 'Success');
      assert.equal(String(t.TotalSize), String(64 * MiB), 'TotalSize: the VM disk size');
      const point = await c.get(findLink(t, 'Related', 'VmRestorePoint')!.Href);
      assert.equal(point.status, 200);
      const vrp = format === 'xml' ? point.body.VmRestorePoint : point.body;
      assert.equal(vrp.VmDisplayName, t.VmDisplayName, 'the task links the VM restore point it made');
      const rp = await c.get(findLink(s, 'Related', 'RestorePointReference')!.Href);
      assert.equal(rp.status, 200);
    }
    if (format === 'xml') {
      const one = await c.get(findLink(cliRuns[0], 'Alternate')!.Href + '?format=Entity');
      const order = [...one.text.matchAll(/<(Links|JobUid|JobName|JobType|CreationTimeUTC|EndTimeUTC|State|Result|Progress|FailureMessage|IsRetry)>/g)].map((m) => m[1]);
      assert.deepEqual(order, ['Links', 'JobUid', 'JobName', 'JobType', 'CreationTimeUTC', 'EndTimeUTC', 'State', 'Result', 'Progress', 'IsRetry'], 'XSD order, no FailureMessage on success');
      const task = await c.get(`${server.http}/api/backupTaskSessions?format=Entity`);
      const torder = [...task.text.split('</BackupTaskSession>')[0].matchAll(/<(Links|JobSessionUid|CreationTimeUTC|EndTimeUTC|State|Result|Reason|TotalSize)( \/)?>/g)].map((m) => m[1]);
      assert.deepEqual(torder, ['Links', 'JobSessionUid', 'CreationTimeUTC', 'EndTimeUTC', 'State', 'Result', 'Reason', 'TotalSize']);
    }
  });
}

test('a job started over the API is one session for its VMs; a VM that no longer exists fails the run, the others are backed up', async () => {
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const pair = await runJobOverApi(c, 'Pair');
  assert.equal(pair.Result, 'Success');
  assert.equal(pair.JobName, 'Pair');
  const pairTasks = entities((await c.get(findLink(pair, 'Down', 'BackupTaskSessionReferenceList')!.Href + '?format=Entity')).body, 'json', 'BackupTaskSessions', 'BackupTaskSession');
  assert.deepEqual(pairTasks.map((t: any) => `${t.VmDisplayName} ${t.Result}`), ['alpha Success', 'beta Success']);

  const broken = await runJobOverApi(c, 'Broken');
  assert.equal(broken.Result, 'Failed');
  assert.match(broken.FailureMessage, /gone: VM gone was not found/);
  const tasks = entities((await c.get(`${server.http}/api/backupSessions/${broken.UID.split(':').pop()}/taskSessions?format=Entity`)).body, 'json', 'BackupTaskSessions', 'BackupTaskSession');
  assert.deepEqual(tasks.map((t: any) => `${t.VmDisplayName} ${t.State} ${t.Result}`), ['alpha Completed Success', 'gone Completed Failed']);
  assert.match(tasks[1].Reason, /VM gone was not found/);
  assert.equal(tasks[0].Reason, '');
  // The failed run still made alpha's point, under one restore point of the run.
  const rp = await c.get(findLink(broken, 'Related', 'RestorePointReference')!.Href + '/vmRestorePoints');
  assert.equal(refs(rp.body, 'json').length, 1);

  // The job links its sessions (jobs_id.md: Down BackupJobSessionReferenceList), in both forms.
  const id = await jobId(c, 'Broken');
  const jobRef = await c.get(`${server.http}/api/jobs/${id}`);
  const down = findLink(jobRef.body, 'Down', 'BackupJobSessionReferenceList');
  assert.ok(down, 'JobReference links its backup sessions');
  assert.equal(refs((await c.get(down.Href)).body, 'json').length, 1);
  const jobEntity = await c.get(`${server.http}/api/jobs/${id}?format=Entity`);
  assert.ok(findLink(jobEntity.body, 'Down', 'BackupJobSessionReferenceList'));
});

for (const format of ['xml', 'json'] as Format[]) {
  test(`the query service filters backup job and task sessions by result and VM (${format})`, async () => {
    const c = new EmClient(server.http, format);
    await c.logOn();
    const all = entities((await c.get(`${server.http}/api/backupSessions?format=Entity`)).body, format, 'BackupJobSessions', 'BackupJobSession');
    const failed = all.filter((s: any) => s.Result === 'Failed');
    const q = await c.get(`${server.http}/api/query?type=BackupJobSession&format=Entities&filter=${encodeURIComponent('Result==Failed;JobName=="Broken"')}`);
    assert.equal(q.status, 200, q.text);
    const hits = entities(q.body, format, 'BackupJobSessions', 'BackupJobSession', true);
    assert.deepEqual(hits.map((s: any) => s.UID), failed.filter((s: any) => s.JobName === 'Broken').map((s: any) => s.UID));
    assert.ok(hits.length >= 1);
    const since = await c.get(`${server.http}/api/query?type=backupjobsession&filter=${encodeURIComponent(`CreationTime>="${new Date(Date.now() - 3600_000).toISOString()}"`)}`);
    const sinceRefs = refs(since.body, format, true);
    assert.equal(sinceRefs.length, all.length, 'every session of this test started within the hour');
    assert.ok(sinceRefs.every((r: any) => r.Type === 'BackupJobSessionReference'));
    const gone = await c.get(`${server.http}/api/query?type=BackupTaskSession&format=Entities&sortDesc=CreationTime&filter=${encodeURIComponent('Result==Failed;VmDisplayName==gone')}`);
    const goneTasks = entities(gone.body, format, 'BackupTaskSessions', 'BackupTaskSession', true);
    assert.ok(goneTasks.length >= 1);
    assert.ok(goneTasks.every((t: any) => t.VmDisplayName === 'gone' && t.Result === 'Failed'));
  });
}

test('POST /backupSessions/{ID}?action=stop stops a running backup: the session ends Failed with the stop, VMs not reached are not backed up', async () => {
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const id = await jobId(c, 'Big');
  const start = await c.request('POST', `${server.http}/api/jobs/${id}?action=start`);
  assert.equal(start.status, 202);
  const running = await waitFor('the Big run to be Working', async () => {
    const [s] = entities((await c.get(`${server.http}/api/jobs/${id}/backupSessions?format=Entity`)).body, 'json', 'BackupJobSessions', 'BackupJobSession');
    return s?.State === 'Working' ? s : undefined;
  }, 60_000, 50);
  const stop = await c.request('POST', findLink(running, 'Stop')!.Href);
  assert.equal(stop.status, 202, stop.text);
  assert.equal(stop.body.Operation, 'StopJobSession');
  const task = await waitFor('the stop task', async () => {
    const t = await c.get(findLink(stop.body, 'Delete', 'Task')!.Href);
    return t.body.State === 'Finished' ? t.body : undefined;
  });
  assert.equal(task.Result.Success, true);
  assert.equal(task.Result.Message, `Job Session "${running.Name}" triggered to stop.`);
  const stopped = await waitFor('the Big run to stop', async () => {
    const s = await c.get(findLink(running, 'Alternate')!.Href + '?format=Entity');
    return s.body.State === 'Stopped' ? s.body : undefined;
  }, 60_000, 100);
  assert.equal(stopped.Result, 'Failed');
  assert.match(stopped.FailureMessage, /Stopped: POST \/backupSessions\/[0-9a-f-]+\?action=stop/);
  const tasks = entities((await c.get(findLink(stopped, 'Down', 'BackupTaskSessionReferenceList')!.Href + '?format=Entity')).body, 'json', 'BackupTaskSessions', 'BackupTaskSession');
  assert.equal(tasks.length, 3);
  assert.ok(tasks.every((t: any) => t.State === 'Completed'));
  const failedTasks = tasks.filter((t: any) => t.Result === 'Failed');
  assert.ok(failedTasks.length >= 1, 'at least big3 was not reached');
  assert.ok(failedTasks.every((t: any) => /action=stop/.test(t.Reason)));
  const points = refs((await c.get(`${server.http}/api/query?type=VmRestorePoint&filter=${encodeURIComponent('VmDisplayName==big*')}`)).body, 'json', true);
  assert.equal(points.length, tasks.length - failedTasks.length, 'only VMs whose task succeeded have a restore point');

  const again = await c.request('POST', findLink(stopped, 'Stop')!.Href);
  assert.equal(again.status, 202);
  const refused = await waitFor('the second stop task', async () => {
    const t = await c.get(findLink(again.body, 'Delete', 'Task')!.Href);
    return t.body.State === 'Finished' ? t.body : undefined;
  });
  assert.equal(refused.Result.Success, false);
  assert.match(refused.Result.Message, /is not running/);
});

test('a stop request over the API reaches a backup the CLI runs in another process', async (t) => {
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const child = spawn(process.execPath, [resolve('dist/src/main.js'), 'backup', 'cli1'], {
    env: { ...process.env, OPENEM_DATA_DIR: dataDir, OPENEM_ADMIN_PASSWORD: ADMIN_PASSWORD, OPENEM_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const running = await waitFor('the CLI run to be Working', async () => {
    const list = entities((await c.get(`${server.http}/api/backupSessions?format=Entity`)).body, 'json', 'BackupJobSessions', 'BackupJobSession');
    return list.find((s: any) => s.JobName === 'Backup cli1' && s.State === 'Working');
  }, 60_000, 50);
  assert.ok(running.Progress < 50, `stopped early enough to be a real stop (progress ${running.Progress})`);
  const stop = await c.request('POST', findLink(running, 'Stop')!.Href);
  assert.equal(stop.status, 202);
  const code = await exited;
  assert.notEqual(code, 0, `the CLI backup fails when stopped:\n${err}`);
  assert.match(err, /action=stop/);
  const s = await c.get(findLink(running, 'Alternate')!.Href + '?format=Entity');
  assert.equal(s.body.State, 'Stopped');
  assert.equal(s.body.Result, 'Failed');
});

test('unknown backup sessions and task sessions answer 404; an unknown action 400', async () => {
  const c = new EmClient(server.http, 'xml');
  await c.logOn();
  for (const path of ['backupSessions', 'backupTaskSessions']) {
    const r = await c.get(`${server.http}/api/${path}/00000000-0000-0000-0000-000000000000?format=Entity`);
    assert.equal(r.status, 404, path);
    assert.equal(r.body.Error.Status, 'NotFound');
  }
  assert.equal((await c.get(`${server.http}/api/backupSessions/00000000-0000-0000-0000-000000000000/taskSessions`)).status, 404);
  const notGuid = await c.get(`${server.http}/api/backupSessions/99999`);
  assert.equal(notGuid.status, 400, 'an id that is not a GUID is a bad request, as in EM');
  const [s] = refs((await c.get(`${server.http}/api/backupSessions`)).body, 'xml');
  const bad = await c.request('POST', `${s.Href}?action=pause`);
  assert.equal(bad.status, 400);
});

test('after retention removes restore points, sessions stop linking them and every remaining link resolves', async () => {
  await cliOk(dataDir, ['repo', 'forget', '--keep', '1', '--vm', 'alpha']);
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const tasks = entities((await c.get(`${server.http}/api/query?type=BackupTaskSession&format=Entities&sortDesc=CreationTime&filter=${encodeURIComponent('VmDisplayName==alpha;Result==Success')}`)).body, 'json', 'BackupTaskSessions', 'BackupTaskSession', true);
  assert.ok(tasks.length >= 3, 'alpha was backed up by the CLI, Pair and Broken');
  const linked = tasks.filter((t: any) => findLink(t, 'Related', 'VmRestorePoint'));
  assert.equal(linked.length, 1, 'only the point that was kept is linked');
  assert.equal(linked[0].UID, tasks[0].UID, 'the newest');
  for (const s of entities((await c.get(`${server.http}/api/backupSessions?format=Entity`)).body, 'json', 'BackupJobSessions', 'BackupJobSession')) {
    for (const l of linksOf(s).filter((l) => l.Rel !== 'Stop')) assert.equal((await c.get(l.Href)).status, 200, `${s.Name}: ${l.Rel} ${l.Type} ${l.Href}`);
  }
  for (const t of linked) assert.equal((await c.get(findLink(t, 'Related', 'VmRestorePoint')!.Href)).status, 200);
});
