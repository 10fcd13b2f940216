// The CLI's power changes and restore-abandon take the VM's claim (issue 9 §4): while the server writes a
// restore into a VM, `openem vm power-on` (with or without --force), `power-off` and `restore-abandon` are
// refused naming the restore session that holds it, and vm.json keeps its "writing" mark.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, waitFor } from '../helpers/em-client.js';
import { runCli } from '../helpers/cli.js';
import { scribble } from '../services/restore-vm/restore-fixtures.js';
import { diskPathOf, logLines, prepareDataDir, rootOf, waitForTask, type PreparedVm } from './vm-restore-fixtures.js';
import { fileCleanup } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let server: ServerProcess | undefined;
let dataDir: string;
let vm: PreparedVm;
const BLOCKS = 768;

before(async () => {
  let vms: Record<string, PreparedVm>;
  ({ dataDir, vms } = await prepareDataDir(cleanup, [{ name: 'power-busy', blocks: BLOCKS }]));
  vm = vms['power-busy'];
  await scribble(await diskPathOf(dataDir, vm.name), Array.from({ length: BLOCKS / 2 }, (_, i) => 2 * i));
  server = await startServerProcess({ dataDir });
  cleanup.defer(async () => {
    await server?.stop();
  });
});

async function markOf(): Promise<any> {
  return JSON.parse(await readFile(join(dirname(await diskPathOf(dataDir, vm.name)), 'vm.json'), 'utf8')).restoreIncomplete;
}

/** Runs `fn` while the server is paused (SIGSTOP), so its restore cannot end meanwhile; it still holds the claim. */
async function whileServerPaused<T>(fn: () => Promise<T>): Promise<T> {
  process.kill(server!.proc.pid!, 'SIGSTOP');
  try {
    return await fn();
  } finally {
    process.kill(server!.proc.pid!, 'SIGCONT');
  }
}

test('while a restore writes a VM, CLI power-on, power-on --force, power-off and restore-abandon are refused naming the restore, and the mark stays', async () => {
  const c = new EmClient(server!.http, 'json');
  await c.logOn();
  const posted = await c.request('POST', `${server!.http}/api/vmRestorePoints/${vm.pointId}?action=restore`);
  assert.equal(posted.status, 202, posted.text);
  const finished = await waitForTask(c, rootOf(posted.body, 'json', 'Task').Href);
  const href = new URL(findLink(finished, 'Related', 'RestoreSession')!.Href);
  const sessionPath = href.pathname + href.search;
  const sessionId = href.pathname.split('/').pop()!;
  await waitFor(
    'the restore to be writing',
    async () => {
      const s = (await c.get(`${server!.http}${sessionPath}`)).body;
      assert.notEqual(s.State, 'Stopped', 'the restore ended before the CLI could try');
      return s.State === 'Working' && (await logLines(c, s)).some((l) => /marked restore incomplete/.test(l)) ? s : undefined;
    },
    120_000,
    10,
  );

  const holder = new RegExp(`VM ${vm.name} is busy: an entire VM restore holds it \\(restore session ${sessionId}, on \\S+ pid ${server!.proc.pid} since `);
  await whileServerPaused(async () => {
    for (const args of [['vm', 'restore-abandon', vm.name], ['vm', 'power-on', vm.name, '--force'], ['vm', 'power-on', vm.name], ['vm', 'power-off', vm.name]]) {
      const refused = await runCli(dataDir, args);
      assert.equal(refused.code, 1, `openem ${args.join(' ')}: ${refused.stdout}`);
      assert.match(refused.stderr, holder, `openem ${args.join(' ')}`);
    }
    const mark = await markOf();
    assert.equal(mark?.state, 'writing');
    assert.equal(mark.sessionId, sessionId);
  });

  const done = await waitFor('the restore to finish', async () => {
    const s = (await c.get(`${server!.http}${sessionPath}`)).body;
    return s.State === 'Stopped' ? s : undefined;
  }, 180_000);
  assert.equal(done.Result, 'Success', done.FailureMessage);
  assert.equal(await markOf(), undefined);
  const on = await runCli(dataDir, ['vm', 'power-on', vm.name]);
  assert.equal(on.code, 0, on.stderr);
});
