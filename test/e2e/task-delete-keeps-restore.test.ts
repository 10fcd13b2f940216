// Issue 9 §3: a client that removes each task as soon as it reads Finished (a cloud-platform plugin does) must not
// stop the restore session the task started. DELETE /tasks/{ID} "Removes a task" (delete_task_id): 204, then 404.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, waitFor } from '../helpers/em-client.js';
import { diskPathOf, prepareDataDir, rootOf, waitForSession, waitForTask, type PreparedVm } from './vm-restore-fixtures.js';
import { scribble, sha256File } from '../services/restore-vm/restore-fixtures.js';
import { assertLiveClean, backedUpVm, debugfsWrite, liveImage, pointIdOf, readLive } from '../services/mounts/flr-fixture.js';
import { fileCleanup } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let server: ServerProcess | undefined;
let dataDir: string;
let vms: Record<string, PreparedVm>;
let guestTree: string;

before(async () => {
  // Big enough that the restore is still writing when the task is removed.
  ({ dataDir, vms } = await prepareDataDir(cleanup, [{ name: 'plugin-vm', blocks: 384 }]));
  guestTree = await backedUpVm(cleanup, dataDir, 'plugin-web');
  server = await startServerProcess({ dataDir });
  cleanup.defer(async () => {
    await server?.stop();
  });
});

/** DELETE the task's Delete link at once; the task is gone afterwards. */
async function removeTask(c: EmClient, task: any): Promise<void> {
  const href = findLink(task, 'Delete', 'Task')!.Href;
  const del = await c.request('DELETE', href);
  assert.equal(del.status, 204, del.text);
  assert.equal(del.text, '');
  const gone = await c.get(href);
  assert.equal(gone.status, 404, gone.text);
  assert.match(rootOf(gone.body, c.format, 'Error').Message, /was not found/);
}

test('DELETE of a finished VM restore task leaves the restore running to Stopped/Success, the disk byte-identical to the point', async () => {
  const c = new EmClient(server!.http, 'xml');
  await c.logOn();
  const vm = vms['plugin-vm'];
  const disk = await diskPathOf(dataDir, vm.name);
  await scribble(disk, [0, 1, 5, 100, 200, 383]);
  assert.notEqual(await sha256File(disk), await sha256File(vm.reference));

  const posted = await c.request('POST', `${server!.http}/api/vmRestorePoints/${vm.pointId}?action=restore`);
  assert.equal(posted.status, 202, posted.text);
  const task = await waitForTask(c, rootOf(posted.body, 'xml', 'Task').Href);
  assert.equal(task.Result.Success, 'true');
  await removeTask(c, task);
  const sessionHref = findLink(task, 'Related', 'RestoreSession')!.Href;
  const atRemoval = rootOf((await c.get(sessionHref)).body, 'xml', 'RestoreSession');
  assert.notEqual(atRemoval.State, 'Stopped', 'the restore was still running when its task was removed');

  const s = await waitForSession(c, task);
  assert.equal(s.Result, 'Success', JSON.stringify(s));
  assert.equal(Number(s.Progress), 100);
  assert.equal(await sha256File(disk), await sha256File(vm.reference), 'the disk is byte for byte the restore point');
});

test('DELETE of a finished guest file restore task leaves the restore to Stopped/Success with the exact bytes', async () => {
  const c = new EmClient(server!.http, 'json');
  await c.logOn();
  const id = await pointIdOf(c, 'plugin-web');
  const image = await liveImage(dataDir, 'plugin-web');
  await debugfsWrite(image, ['rm /srv/app/data.bin']);
  assert.equal(await readLive(image, '/srv/app/data.bin'), undefined);

  const r = await c.request('POST', `${c.base}/api/catalog/vms/plugin-web/vmRestorePoints/${id}/guestfs/srv/app/data.bin?action=restore`);
  assert.equal(r.status, 202, r.text);
  const task = await waitForTask(c, r.body.Href);
  assert.equal(task.Result.Message, 'Restore operations started successfully.');
  await removeTask(c, task);

  const s = await waitForSession(c, task);
  assert.equal(s.Result, 'Success', JSON.stringify(s));
  assert.ok((await readLive(image, '/srv/app/data.bin'))!.equals(readFileSync(join(guestTree, 'srv/app/data.bin'))));
  await assertLiveClean(image);
});

/** Names of a VM's restore points, as a client lists them. */
async function pointNames(c: EmClient, vmName: string): Promise<string[]> {
  const r = await c.get(`${c.base}/api/vmRestorePoints`);
  assert.equal(r.status, 200, r.text);
  return (r.body.Refs as any[]).map((x) => String(x.Name)).filter((n) => n.startsWith(`${vmName}@`));
}

test('DELETE of a finished StartJob task leaves the backup to complete; POST ?action=stop answers 202 with a StopJob task', async () => {
  const c = new EmClient(server!.http, 'json');
  await c.logOn();
  const jobs = (await c.get(`${c.base}/api/jobs`)).text;
  const jobId = (JSON.parse(jobs).Refs.find((r: any) => r.Name === 'Backup plugin-web')?.UID ?? assert.fail(`no job in ${jobs}`)).split(':').pop();
  const before = await pointNames(c, 'plugin-web');
  await debugfsWrite(await liveImage(dataDir, 'plugin-web'), ['rm /etc/hostname']);

  const started = await c.request('POST', `${c.base}/api/jobs/${jobId}?action=start`);
  assert.equal(started.status, 202, started.text);
  const task = await waitForTask(c, started.body.Href);
  assert.equal(task.Result.Message, 'Job "Backup plugin-web" triggered to start.');
  await removeTask(c, task);
  await waitFor('the backup to add a restore point', async () => ((await pointNames(c, 'plugin-web')).length > before.length ? true : undefined), 120_000, 200);

  const stop = await c.request('POST', `${c.base}/api/jobs/${jobId}?action=stop`);
  assert.equal(stop.status, 202, stop.text);
  assert.equal(stop.body.Operation, 'StopJob');
  const stopped = await waitForTask(c, stop.body.Href);
  assert.equal(stopped.Result.Message, 'Job "Backup plugin-web" is not running.');
});
