// Stopping a restore midway: SIGKILL of the server followed by a restart (issue #4 §4). Removing the task does not
// stop a restore (issue 9 §3, task-delete-keeps-restore.test.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, waitFor } from '../helpers/em-client.js';
import { logLines, powerStateOf, prepareDataDir, rootOf, waitForTask, type PreparedVm } from './vm-restore-fixtures.js';

let server: ServerProcess;
let dataDir: string;
let vms: Record<string, PreparedVm>;

before(async () => {
  // Big enough that a restore takes a while; mostly random data so each block costs a real write.
  ({ dataDir, vms } = await prepareDataDir([{ name: 'big-kill', blocks: 768 }]));
  server = await startServerProcess({ dataDir });
});
after(async () => {
  await server?.stop();
});

/**
 * Starts an in-place restore and returns once its session is writing: the VM powered off, past the
 * verification pass (the first half of Progress, issue #9 §5).
 */
async function startAndWaitWorking(c: EmClient, vm: PreparedVm) {
  const posted = await c.request('POST', `${server.http}/api/vmRestorePoints/${vm.pointId}?action=restore`);
  assert.equal(posted.status, 202, posted.text);
  const task = rootOf(posted.body, 'json', 'Task');
  const finished = await waitForTask(c, task.Href);
  const sessionHref = findLink(finished, 'Related', 'RestoreSession')!.Href;
  await waitFor(
    'the restore to be writing',
    async () => {
      const s = (await c.get(sessionHref)).body;
      assert.notEqual(s.State, 'Stopped', 'the restore ended before it could be stopped midway');
      return s.State === 'Working' && s.Progress > 50 && logLines(s).some((l) => / powered off$/.test(l)) ? s : undefined;
    },
    60_000,
    10,
  );
  return { task: finished, sessionHref };
}

test('SIGKILL of the server midway: after a restart the session is Failed with the reason and the VM is powered off', async () => {
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const { sessionHref } = await startAndWaitWorking(c, vms['big-kill']);
  const sessionPath = new URL(sessionHref).pathname + new URL(sessionHref).search;
  await server.kill();
  server = await startServerProcess({ dataDir });
  const again = new EmClient(server.http, 'json');
  await again.logOn();
  const s = (await again.get(`${server.http}${sessionPath}`)).body;
  assert.equal(s.State, 'Stopped');
  assert.equal(s.Result, 'Failed');
  assert.match(s.FailureMessage, /server stopped while this restore was running/);
  assert.equal(await powerStateOf(dataDir, 'big-kill'), 'PoweredOff');
});
