// The repository's exclusions as leases in the state store (tasks/repository-leases.ts): gc and backups exclude each
// other across processes and nodes, a dead holder's lease ends after the timeout, nothing is judged by a pid of
// another host. Several StateRepositoryLeases on one store stand for several processes. SQLite and PostgreSQL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createBaseContext } from '../../src/app-context.js';
import type { BaseContext } from '../../src/context.js';
import type { NamedLeasesOptions } from '../../src/tasks/named-leases.js';
import { StateRepositoryLeases } from '../../src/tasks/repository-leases.js';
import { startTestPostgres, type TestPostgres } from '../state/postgres-fixture.js';

const conflictMatching = (re: RegExp) => (e: unknown) => {
  assert.equal((e as { code?: string }).code, 'CONFLICT', String(e));
  assert.match((e as Error).message, re);
  return true;
};

function behaviours(where: () => Promise<{ dataDir: string; databaseUrl?: string }>) {
  let ctx: BaseContext;
  let dataDir: string;
  let offset = 0;
  const started: StateRepositoryLeases[] = [];
  const processOn = (options: NamedLeasesOptions = {}) => {
    const l = new StateRepositoryLeases({ ...ctx, nodeId: randomUUID() }, options);
    started.push(l);
    return l;
  };
  before(async () => {
    const w = await where();
    dataDir = w.dataDir;
    const config = loadConfig({ env: {}, flags: { ...w, adminPassword: 'Admin-pass-1' } });
    ctx = await createBaseContext(config, createLogger('silent'), { clock: { now: () => Date.now() + offset }, announce: () => {} });
  });
  after(async () => {
    for (const l of started) l.stop();
    await ctx.store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('gc refuses while another process backs up a VM, a backup refuses while gc runs, and each runs once the other is done', async () => {
    const a = processOn();
    const b = processOn();
    const backup = await a.backup('vm-1');
    await assert.rejects(b.gc(), conflictMatching(/cannot collect garbage while backups run \(VM vm-1: held by pid \d+/));
    await backup.release();
    const gc = await b.gc();
    await assert.rejects(a.backup('vm-2'), conflictMatching(/garbage collection is running \(held by pid/));
    await assert.rejects(processOn().gc(), conflictMatching(/garbage collection is already running/));
    await gc.release();
    await gc.release();
    await (await a.backup('vm-2')).release();
    assert.deepEqual(await ctx.store.db.selectFrom('leases').selectAll().execute(), []);
  });

  test('a gc and a backup starting together never both run', async () => {
    for (let i = 0; i < 10; i++) {
      const outcomes = await Promise.allSettled([processOn().gc(), processOn().backup(`vm-race-${i}`)]);
      assert.ok(outcomes.some((o) => o.status === 'rejected'), `round ${i}: both ran`);
      for (const o of outcomes) {
        if (o.status === 'fulfilled') await o.value.release();
        else assert.equal((o.reason as { code?: string }).code, 'CONFLICT');
      }
    }
  });

  test('a lease of another host is not taken over while it beats, and is once its heartbeat is older than the timeout', async () => {
    const elsewhere = processOn({ host: 'other-node', pid: 1, heartbeatMs: 20, staleMs: 60_000 });
    await elsewhere.backup('vm-3');
    offset += 61_000;
    // Its heartbeat runs every 20 ms: wait until it has beaten at the new time, then it is live again.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const row = await ctx.store.db.selectFrom('leases').selectAll().where('name', '=', 'repository-backup:vm-3').executeTakeFirstOrThrow();
      if (Number(row.heartbeat_at) >= Date.now() + offset - 1_000) break;
      assert.ok(Date.now() < deadline, 'the heartbeat did not refresh the lease');
      await new Promise((r) => setTimeout(r, 20));
    }
    const here = processOn({ staleMs: 60_000 });
    await assert.rejects(here.gc(), conflictMatching(/held by pid 1 on other-node/));
    elsewhere.stop(); // the other node dies
    offset += 61_000;
    await (await here.gc()).release();
    await (await here.backup('vm-3')).release();
  });

  test('a backup whose lease was taken over after missed heartbeats learns it before committing, and gc ran meanwhile', async () => {
    const stalled = processOn({ heartbeatMs: 60 * 60_000, staleMs: 60_000 }); // its heartbeat never comes in time
    const backup = await stalled.backup('vm-4');
    await backup.confirm(); // still ours
    offset += 61_000;
    const gc = await processOn({ staleMs: 60_000 }).gc(); // takes the stale backup lease over
    await assert.rejects(backup.confirm(), (e: unknown) => {
      assert.equal((e as { code?: string }).code, 'CONFLICT');
      return true;
    });
    await gc.release();
    await backup.release();
    // A released lease is not confirmed either.
    const again = await stalled.backup('vm-4');
    await again.release();
    await assert.rejects(again.confirm(), (e: unknown) => (e as { code?: string }).code === 'CONFLICT');
  });
}

describe('repository leases on SQLite', () => behaviours(async () => ({ dataDir: mkdtempSync(join(tmpdir(), 'openem-leases-')) })));

describe('repository leases on PostgreSQL', () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startTestPostgres();
  });
  after(async () => pg?.stop());
  behaviours(async () => ({ dataDir: mkdtempSync(join(tmpdir(), 'openem-leases-')), databaseUrl: await pg.newDatabaseUrl() }));
});
