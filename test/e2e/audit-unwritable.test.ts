// An audit trail that can silently lose entries is not one (issue #15): when the audit table cannot take an
// entry, the audited action is refused with 503 and a message naming the audit trail, and nothing of it is done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createBaseContext } from '../../src/app-context.js';
import { attachServices } from '../../src/attach-services.js';
import { startServer } from '../../src/server.js';
import { API_AREAS } from '../../src/api/areas.js';
import type { AppContext } from '../../src/services/app-services.js';
import { listAudit } from '../../src/services/audit/audit-trail.js';
import { freePort } from '../helpers/free-port.js';
import { EmClient } from '../helpers/em-client.js';
import { ADMIN_PASSWORD } from '../helpers/server-process.js';
import { startTestPostgres } from '../state/postgres-fixture.js';
import { cleanupOf, tempDir, type Cleanup } from '../helpers/cleanup.js';
import { backUpWithReference, createVm, diskPath, mixedBlocks, scribble, sessionOfTask, sha256File, waitForStopped } from '../services/restore-vm/restore-fixtures.js';

const IN_PLACE = '<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><VmRestoreSpec><PowerOnAfterRestore>false</PowerOnAfterRestore><QuickRollback>false</QuickRollback></VmRestoreSpec></RestoreSpec>';

async function rowsOf(ctx: AppContext, table: 'tasks' | 'restore_sessions' | 'logon_sessions' | 'vm_claims'): Promise<number> {
  const r = await ctx.store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

async function refusedWithoutAudit(cleanup: Cleanup, databaseUrl?: string): Promise<void> {
  const dataDir = tempDir(cleanup, 'openem-audit-unwritable-');
  const config = loadConfig({ env: {}, flags: { dataDir, databaseUrl, listen: '127.0.0.1', httpsPort: 0, httpPort: await freePort(), adminPassword: ADMIN_PASSWORD } });
  const base = await createBaseContext(config, createLogger('silent'), { announce: () => {} });
  cleanup.defer(() => base.store.close());
  const ctx = await attachServices(base, { demo: false });
  cleanup.defer(() => ctx.shutdown());
  const server = await startServer(ctx, config, API_AREAS, 'test');
  cleanup.defer(() => server.close());

  await createVm(ctx, 'audited', mixedBlocks(8));
  const { pointId, reference } = await backUpWithReference(ctx, 'audited', dataDir);
  const disk = await diskPath(ctx, 'audited');
  await scribble(disk, [0, 1]);
  const scribbled = await sha256File(disk);
  const c = new EmClient(server.urls.http!);
  assert.equal((await c.logOn()).status, 201);
  const before = { tasks: await rowsOf(ctx, 'tasks'), sessions: await rowsOf(ctx, 'restore_sessions'), logons: await rowsOf(ctx, 'logon_sessions') };
  const entriesBefore = (await listAudit(ctx)).length;

  await sql`alter table audit rename to audit_unwritable`.execute(ctx.store.db);
  const restoreUrl = `${server.urls.http}/api/vmRestorePoints/${pointId}?action=restore`;
  const refused = await c.request('POST', restoreUrl, { body: IN_PLACE });
  assert.equal(refused.status, 503, refused.text);
  assert.match(refused.body.Error.Message, /audit trail cannot record this restore-vm, so it was not done/);
  assert.equal(await rowsOf(ctx, 'tasks'), before.tasks, 'no task was created');
  assert.equal(await rowsOf(ctx, 'restore_sessions'), before.sessions, 'no restore session was created');
  assert.equal(await rowsOf(ctx, 'vm_claims'), 0, 'the VM is not claimed');
  assert.equal(await sha256File(disk), scribbled, 'the VM disk is untouched');

  // Enterprise Manager's clients log off with the SessionId their token is the base64 of.
  const self = await c.request('DELETE', `${server.urls.http}/api/logonSessions/${Buffer.from(c.token!, 'base64').toString('utf8')}`);
  assert.equal(self.status, 503, self.text);
  assert.equal((await c.get(`${server.urls.http}/api/logonSessions`)).status, 200, 'the session was not ended');
  const other = new EmClient(server.urls.http!);
  assert.equal((await other.logOn()).status, 503);
  assert.equal(other.token, undefined);
  assert.equal(await rowsOf(ctx, 'logon_sessions'), before.logons, 'the refused logon left no session');

  // With the table back, the same request restores: it was refused for the audit trail alone, and is recorded.
  await sql`alter table audit_unwritable rename to audit`.execute(ctx.store.db);
  assert.equal((await listAudit(ctx)).length, entriesBefore, 'the refused actions left no entry claiming they happened');
  const accepted = await c.request('POST', restoreUrl, { body: IN_PLACE });
  assert.equal(accepted.status, 202, accepted.text);
  const taskId = String(accepted.body.Task.TaskId);
  const s = await waitForStopped(ctx, await sessionOfTask(ctx, taskId));
  assert.equal(s.result, 'Success', s.failureMessage);
  assert.equal(await sha256File(disk), await sha256File(reference));
  const entry = (await listAudit(ctx)).find((e) => e.what === 'restore-vm');
  assert.equal(entry?.result, 'success');
  assert.equal(entry?.target, `audited ${pointId} (${taskId})`);
}

const BEHAVIOUR = 'with the audit table gone, a restore, a logoff and a logon are refused with 503 and none of them happens';

test(`${BEHAVIOUR} (SQLite)`, (t) => refusedWithoutAudit(cleanupOf(t)));

test(`${BEHAVIOUR} (PostgreSQL)`, async (t) => {
  const cleanup = cleanupOf(t);
  const pg = await startTestPostgres();
  cleanup.defer(() => pg.stop());
  await refusedWithoutAudit(cleanup, await pg.newDatabaseUrl());
});
