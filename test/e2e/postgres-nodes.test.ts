import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestPostgres, type TestPostgres } from '../state/postgres-fixture.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, waitFor } from '../helpers/em-client.js';
import { createBackedUpVm, damageDisk } from '../helpers/vm-fixture.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let pg: TestPostgres;
let nodes: ServerProcess[] = [];
let dataDir: string;
let imagePath: string;
let atBackup: Buffer;

before(async () => {
  pg = await startTestPostgres();
  cleanup.defer(() => pg.stop());
  const url = await pg.newDatabaseUrl();
  dataDir = tempDir(cleanup, 'openem-pgnodes-');
  const env = { OPENEM_DATABASE_URL: url };
  ({ image: imagePath, atBackup } = await createBackedUpVm(dataDir, 'pgvm', { sizeMiB: 32, payloadMiB: 3, env }));
  damageDisk(imagePath, 1);
  nodes = [await startServerProcess({ dataDir, env }), await startServerProcess({ dataDir, env })];
  cleanup.defer(async () => {
    for (const n of nodes) await n.stop();
  });
});

test('two nodes on one PostgreSQL share logon sessions, tasks and restore sessions, and the restore puts the bytes back', async () => {
  const [a, b] = nodes;
  const onA = new EmClient(a.http, 'xml');
  await onA.logOn();
  const onB = new EmClient(b.http, 'xml');
  onB.token = onA.token;
  const list = await onB.get(`${b.http}/api/vmRestorePoints`);
  assert.equal(list.status, 200, 'a session made on node A is valid on node B');
  const ref = list.body.EntityReferences.Ref[0];
  const entity = await onA.get(findLink(ref, 'Alternate', 'VmRestorePoint')!.Href);
  const restore = await onA.request('POST', findLink(entity.body.VmRestorePoint, 'Restore')!.Href);
  assert.equal(restore.status, 202, restore.text);
  const taskPath = new URL(findLink(restore.body.Task, 'Delete')!.Href).pathname;
  const task = await waitFor('task finished on node B', async () => {
    const t = await onB.get(`${b.http}${taskPath}`);
    return t.body.Task.State === 'Finished' ? t.body.Task : undefined;
  });
  assert.equal(task.Result.Success, 'true');
  const sessionPath = new URL(findLink(task, 'Related', 'RestoreSession')!.Href);
  const session = await waitFor('restore session stopped', async () => {
    const s = await onB.get(`${b.http}${sessionPath.pathname}${sessionPath.search}`);
    return s.body.RestoreSession.State === 'Stopped' ? s.body.RestoreSession : undefined;
  });
  assert.equal(session.Result, 'Success', JSON.stringify(session));
  assert.ok(readFileSync(imagePath).equals(atBackup), 'the disk is byte for byte what it was at backup time');
});

test('a restore of a VM that node A restores is refused on node B with 409 naming A, and runs on B once A has finished', async () => {
  const [a, b] = nodes;
  const onA = new EmClient(a.http, 'xml');
  await onA.logOn();
  const onB = new EmClient(b.http, 'xml');
  onB.token = onA.token;
  const ref = (await onA.get(`${a.http}/api/vmRestorePoints`)).body.EntityReferences.Ref[0];
  const pointId = String(ref.UID).split(':').pop();
  damageDisk(imagePath, 2);
  const first = await onA.request('POST', `${a.http}/api/vmRestorePoints/${pointId}?action=restore`);
  assert.equal(first.status, 202, first.text);
  // Node A is paused so its restore cannot end before B asks; a paused node still holds its claim.
  process.kill(a.proc.pid!, 'SIGSTOP');
  try {
    for (const path of [`/api/vmRestorePoints/${pointId}?action=restore`, `/api/catalog/vms/pgvm/vmRestorePoints/${pointId}/guestfs/etc/hostname?action=restore`]) {
      const second = await onB.request('POST', `${b.http}${path}`);
      assert.equal(second.status, 409, second.text);
      assert.equal(second.body.Error.Status, 'Conflict');
      assert.match(second.body.Error.Message, new RegExp(`^VM pgvm is busy: an entire VM restore holds it \\(.*, on \\S+ pid ${a.proc.pid} since `));
    }
  } finally {
    process.kill(a.proc.pid!, 'SIGCONT');
  }
  const sessionOf = async (c: EmClient, node: typeof a, taskHref: string) => {
    const taskPath = new URL(taskHref).pathname;
    const task = await waitFor('task finished', async () => {
      const t = await c.get(`${node.http}${taskPath}`);
      return t.body.Task.State === 'Finished' ? t.body.Task : undefined;
    });
    const s = new URL(findLink(task, 'Related', 'RestoreSession')!.Href);
    return waitFor('restore session stopped', async () => {
      const r = (await c.get(`${node.http}${s.pathname}${s.search}`)).body.RestoreSession;
      return r.State === 'Stopped' ? r : undefined;
    });
  };
  assert.equal((await sessionOf(onA, a, first.body.Task.Href)).Result, 'Success');
  damageDisk(imagePath, 3);
  const again = await onB.request('POST', `${b.http}/api/vmRestorePoints/${pointId}?action=restore`);
  assert.equal(again.status, 202, again.text);
  assert.equal((await sessionOf(onB, b, again.body.Task.Href)).Result, 'Success');
  assert.ok(readFileSync(imagePath).equals(atBackup), 'the disk is byte for byte what it was at backup time');
});
