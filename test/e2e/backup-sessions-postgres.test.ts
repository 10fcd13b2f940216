import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTestPostgres, type TestPostgres } from '../state/postgres-fixture.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, waitFor } from '../helpers/em-client.js';
import { createBackedUpVm, damageDisk } from '../helpers/vm-fixture.js';
import { cliOk } from '../helpers/cli.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let pg: TestPostgres;
let server: ServerProcess;
let dataDir: string;
let images: string[];

before(async () => {
  pg = await startTestPostgres();
  cleanup.defer(() => pg.stop());
  const env = { OPENEM_DATABASE_URL: await pg.newDatabaseUrl() };
  dataDir = tempDir(cleanup, 'openem-bs-pg-');
  images = [(await createBackedUpVm(dataDir, 'pg1', { sizeMiB: 160, payloadMiB: 100, env })).image];
  images.push((await createBackedUpVm(dataDir, 'pg2', { sizeMiB: 160, payloadMiB: 100, env })).image);
  await createBackedUpVm(dataDir, 'pg3', { sizeMiB: 32, payloadMiB: 1, env });
  await cliOk(dataDir, ['job', 'create', 'Both', '--vm', 'pg1,pg2'], { env });
  await cliOk(dataDir, ['job', 'create', 'Broken', '--vm', 'pg1,pg3'], { env });
  await cliOk(dataDir, ['vm', 'rm', 'pg3'], { env });
  server = await startServerProcess({ dataDir, env });
  cleanup.defer(() => server.stop());
});

async function startJob(c: EmClient, name: string): Promise<string> {
  const job = (await c.get(`${server.http}/api/jobs?format=Entity`)).body.Jobs.find((j: any) => j.Name === name);
  const start = await c.request('POST', findLink(job, 'Start')!.Href);
  assert.equal(start.status, 202);
  return findLink(job, 'Down', 'BackupJobSessionReferenceList')!.Href;
}

test('on PostgreSQL: CLI runs, a failing API run and a stopped run are recorded, and the statistics count them', async () => {
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const cli = (await c.get(`${server.http}/api/backupSessions?format=Entity`)).body.BackupJobSessions;
  assert.deepEqual(cli.map((s: any) => `${s.JobName} ${s.State} ${s.Result} ${s.Progress}`).sort(), ['Backup pg1 Stopped Success 100', 'Backup pg2 Stopped Success 100', 'Backup pg3 Stopped Success 100']);

  const brokenList = await startJob(c, 'Broken');
  const broken = await waitFor('the Broken run to stop', async () => {
    const [s] = (await c.get(`${brokenList}?format=Entity`)).body.BackupJobSessions;
    return s?.State === 'Stopped' ? s : undefined;
  }, 120_000, 200);
  assert.equal(broken.Result, 'Failed');
  const tasks = (await c.get(findLink(broken, 'Down', 'BackupTaskSessionReferenceList')!.Href + '?format=Entity')).body.BackupTaskSessions;
  assert.deepEqual(tasks.map((t: any) => `${t.VmDisplayName} ${t.Result}`), ['pg1 Success', 'pg3 Failed']);
  assert.equal(tasks[0].TotalSize, 160 * 2 ** 20);

  // New data on both disks, so the run has blocks to store and is still running when the stop arrives (an
  // increment of unchanged disks ends before any stop could).
  for (const image of images) for (let mib = 8; mib < 150; mib += 2) damageDisk(image, mib);
  const bothList = await startJob(c, 'Both');
  const running = await waitFor('the Both run to be Working', async () => {
    const [s] = (await c.get(`${bothList}?format=Entity`)).body.BackupJobSessions;
    return s?.State === 'Working' ? s : undefined;
  }, 60_000, 50);
  assert.equal((await c.request('POST', findLink(running, 'Stop')!.Href)).status, 202);
  const stopped = await waitFor('the Both run to stop', async () => {
    const s = (await c.get(findLink(running, 'Alternate')!.Href + '?format=Entity')).body;
    return s.State === 'Stopped' ? s : undefined;
  }, 60_000, 100);
  assert.equal(stopped.Result, 'Failed');
  assert.match(stopped.FailureMessage, /action=stop/);

  const stats = (await c.get(`${server.http}/api/reports/summary/job_statistics`)).body;
  assert.deepEqual([stats.TotalJobRuns, stats.SuccessfulJobRuns, stats.FailedJobRuns, stats.RunningJobs], [5, 3, 2, 0]);
  const q = await c.get(`${server.http}/api/query?type=BackupTaskSession&format=Entities&filter=VmDisplayName==pg3`);
  assert.deepEqual(q.body.Entities.BackupTaskSessions.BackupTaskSessions.map((t: any) => t.Result).sort(), ['Failed', 'Success']);
});
