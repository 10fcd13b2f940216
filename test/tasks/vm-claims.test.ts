// One piece of work per VM (issue 9 §4): the claims table's behaviour, the same tests on SQLite and PostgreSQL.
// Several VmClaims on one store stand for several processes (each its own node id, pid and host).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createBaseContext } from '../../src/app-context.js';
import type { BaseContext } from '../../src/context.js';
import { VmClaims, type VmClaimsOptions, type VmWorkKind } from '../../src/tasks/vm-claims.js';
import { startTestPostgres, type TestPostgres } from '../state/postgres-fixture.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';

// Each fresh data directory goes when the file ends, after every suite has closed its stores.
const cleanup = fileCleanup();

interface Backend {
  fresh(): Promise<{ dataDir: string; databaseUrl?: string }>;
}

const KINDS: VmWorkKind[] = ['backup', 'vm-restore', 'quick-rollback', 'guest-file-restore'];
const isConflict = (holder: RegExp) => (e: unknown) => {
  assert.equal((e as { code?: string }).code, 'CONFLICT', String(e));
  assert.match((e as Error).message, holder);
  return true;
};

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

function behaviours(backend: () => Backend) {
  let ctx: BaseContext;
  let offset = 0;
  /** Another "process" on the same store. */
  const processOn = (options: VmClaimsOptions = {}) => new VmClaims({ ...ctx, nodeId: randomUUID() }, options);
  const vm = () => ({ id: randomUUID(), name: `vm-${randomUUID().slice(0, 8)}` });

  before(async () => {
    const config = loadConfig({ env: {}, flags: { ...(await backend().fresh()), adminPassword: 'Admin-pass-1' } });
    ctx = await createBaseContext(config, createLogger('silent'), { clock: { now: () => Date.now() + offset }, announce: () => {} });
  });
  after(async () => ctx.store.close());

  test('a claimed VM refuses every kind of work with CONFLICT naming the holder, and is free again once released', async () => {
    const web = vm();
    const a = processOn();
    const b = processOn();
    const held = await a.claim(web, 'vm-restore', 'a restore starting now');
    await held.relabel('restore session 1234');
    for (const kind of KINDS) {
      await assert.rejects(b.claim(web, kind, 'x'), isConflict(new RegExp(`VM ${web.name} is busy: an entire VM restore holds it \\(restore session 1234, on ${hostname()} pid ${process.pid} since `)));
      await assert.rejects(a.claim(web, kind, 'x'), isConflict(/restore session 1234/), 'the same process is refused too');
    }
    await held.release();
    await held.release();
    const next = await b.claim(web, 'backup', 'backup job "Backup web"');
    await assert.rejects(a.claim(web, 'guest-file-restore', 'x'), isConflict(/is busy: a backup holds it \(backup job "Backup web"/));
    await next.release();
  });

  test('racing claims of one VM from eight processes: exactly one wins, the others are refused', async () => {
    const web = vm();
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => processOn().claim(web, KINDS[i % 4], `work ${i}`)));
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const o of outcomes) if (o.status === 'rejected') assert.equal(o.reason.code, 'CONFLICT');
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<VmClaims['claim']>>>).value.release();
  });

  test('different VMs are claimed independently', async () => {
    const a = processOn();
    const one = await a.claim(vm(), 'backup', 'b1');
    const two = await processOn().claim(vm(), 'vm-restore', 'r1');
    await one.release();
    await two.release();
  });

  test('the claim of a process that died on this host is taken over at once', async () => {
    const web = vm();
    await processOn({ pid: deadPid() }).claim(web, 'backup', 'a backup killed midway');
    const mine = processOn();
    const claim = await mine.claim(web, 'vm-restore', 'restore session after the crash');
    const row = await mine.holderOf(web.id);
    assert.equal(row?.holder, 'restore session after the crash');
    assert.equal(Number(row?.pid), process.pid);
    await claim.release();
  });

  test('a claim of another kernel or pid namespace with the same hostname (a clone, a container) is not taken over while it beats', async () => {
    const web = vm();
    // Its pid means nothing here: dead in this namespace, it may be alive in the clone's.
    for (const host of [hostname(), `${hostname()}#another-boot-id#pid:[4026531836]`]) {
      const clone = processOn({ host, pid: deadPid() });
      const theirs = await clone.claim(web, 'vm-restore', 'restore session on the clone');
      await assert.rejects(processOn().claim(web, 'backup', 'x'), isConflict(new RegExp(`restore session on the clone, on ${hostname()} pid`)));
      await theirs.release();
    }
  });

  test('a claim on this host whose pid is alive (reused) is taken over once its heartbeat is older than the timeout', async () => {
    const web = vm();
    const dead = processOn({ pid: process.pid, staleMs: 60_000 }); // the holder died; its pid now names a live process
    await dead.claim(web, 'backup', 'a backup whose process died');
    dead.stop();
    const here = processOn({ staleMs: 60_000 });
    await assert.rejects(here.claim(web, 'vm-restore', 'x'), isConflict(/a backup whose process died/));
    offset += 61_000;
    const ours = await here.claim(web, 'vm-restore', 'restore session after the reuse');
    assert.equal((await here.holderOf(web.id))?.holder, 'restore session after the reuse');
    await ours.release();
  });

  test('a claim of another host is taken over only once its heartbeat is older than the timeout', async () => {
    const web = vm();
    const elsewhere = processOn({ host: 'other-node', staleMs: 60_000 });
    const theirs = await elsewhere.claim(web, 'backup', 'backup job "Nightly"');
    elsewhere.stop(); // the other node stops beating: it died
    const here = processOn({ staleMs: 60_000 });
    await assert.rejects(here.claim(web, 'vm-restore', 'x'), isConflict(/on other-node pid/));
    offset += 61_000;
    const ours = await here.claim(web, 'vm-restore', 'restore session 77');
    await elsewhere.heartbeat();
    assert.equal(theirs.lost.aborted, true, 'the old holder learns that its claim was taken over');
    await theirs.release(); // must not delete the new holder's claim
    assert.equal((await here.holderOf(web.id))?.holder, 'restore session 77');
    await ours.release();
  });

  test('the heartbeat keeps a claim of another host fresh', async () => {
    const web = vm();
    const elsewhere = processOn({ host: 'other-node', heartbeatMs: 20 });
    const theirs = await elsewhere.claim(web, 'vm-restore', 'restore session 9');
    const before = Number((await elsewhere.holderOf(web.id))!.heartbeat_at);
    offset += 61_000;
    const deadline = Date.now() + 10_000;
    while (Number((await elsewhere.holderOf(web.id))!.heartbeat_at) < before + 61_000) {
      assert.ok(Date.now() < deadline, 'the heartbeat did not refresh the claim');
      await new Promise((r) => setTimeout(r, 20));
    }
    await assert.rejects(processOn().claim(web, 'backup', 'x'), isConflict(/restore session 9/));
    assert.equal(theirs.lost.aborted, false);
    await theirs.release();
  });

  test('work that may wait gets the VM once the holder releases it, and is refused when the bound passes', async () => {
    const web = vm();
    const restore = await processOn().claim(web, 'vm-restore', 'restore session 5');
    const waiter = processOn();
    const started = Date.now();
    await assert.rejects(waiter.claim(web, 'backup', 'backup', { waitMs: 300 }), isConflict(/restore session 5/));
    assert.ok(Date.now() - started >= 290, 'it waited for the bound');
    const waiting = waiter.claim(web, 'backup', 'backup job "Nightly"', { waitMs: 20_000 });
    setTimeout(() => void restore.release(), 200);
    const backup = await waiting;
    assert.equal((await waiter.holderOf(web.id))?.holder, 'backup job "Nightly"');
    await backup.release();
  });
}

const sqlite: Backend = { fresh: async () => ({ dataDir: tempDir(cleanup, 'openem-claims-') }) };

describe('VM claims on SQLite', () => behaviours(() => sqlite));

describe('VM claims on PostgreSQL', () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startTestPostgres();
  });
  after(async () => pg?.stop());
  behaviours(() => ({ fresh: async () => ({ dataDir: tempDir(cleanup, 'openem-claims-'), databaseUrl: await pg.newDatabaseUrl() }) }));
});
