// Restore slots hold across nodes (issue #14): `maxRestores` restores run at once in the whole cluster, each slot a
// named lease in the state store. Two schedulers on one store stand for two nodes. SQLite and PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBaseContext } from '../../../src/app-context.js';
import { loadConfig } from '../../../src/config.js';
import type { BaseContext } from '../../../src/context.js';
import { createLogger } from '../../../src/logger.js';
import { RestoreScheduler } from '../../../src/services/restore-vm/restore-scheduler.js';
import { NamedLeases, type NamedLeasesOptions } from '../../../src/tasks/named-leases.js';
import { startTestPostgres, type TestPostgres } from '../../state/postgres-fixture.js';
import { waitFor } from '../../helpers/em-client.js';

/** Leases that count how often their node has looked for a slot in the store. */
class CountedLeases extends NamedLeases {
  looks = 0;
  override async take(name: string, holder: string) {
    const r = await super.take(name, holder);
    this.looks++;
    return r;
  }
}

function behaviours(where: () => Promise<{ databaseUrl?: string }>) {
  let ctx: BaseContext;
  let dataDir: string;
  let offset = 0;
  const started: RestoreScheduler[] = [];
  /** A node with its own id (and, optionally, posing as another host), allowing `max` restores in the cluster. */
  const node = (max: number, options: NamedLeasesOptions = {}) => {
    const leases = new CountedLeases({ ...ctx, nodeId: randomUUID() }, options);
    const s = new RestoreScheduler(() => max, leases, 10);
    started.push(s);
    return Object.assign(s, { counted: leases });
  };
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'openem-slots-'));
    const config = loadConfig({ env: {}, flags: { dataDir, adminPassword: 'Admin-pass-1', ...(await where()) } });
    ctx = await createBaseContext(config, createLogger('silent'), { clock: { now: () => Date.now() + offset }, announce: () => {} });
  });
  after(async () => {
    for (const s of started) s.stop();
    await ctx?.store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * Whether `p` (a slot asked of `n`) has settled once `n` has looked at every slot in the store `rounds` more
   * times: the condition the waiter acts on, observed, instead of a fixed wait.
   */
  const settledAfterLooks = async (p: Promise<unknown>, n: { counted: CountedLeases }, slots: number, rounds = 3) => {
    let settled = false;
    p.then(() => (settled = true), () => (settled = true));
    const target = n.counted.looks + slots * rounds;
    await waitFor('the waiting node to look for a slot again', async () => (settled || n.counted.looks >= target ? true : undefined), 60_000, 5);
    return settled;
  };

  test('with two slots in the cluster, a third restore on another node waits until one is given back, and says so once', async () => {
    const a = node(2);
    const b = node(2);
    const first = await a.acquireSlot();
    const second = await b.acquireSlot();
    let waits = 0;
    const third = b.acquireSlot(undefined, async () => void waits++);
    assert.equal(await settledAfterLooks(third, b, 2), false, 'no slot is free: node B waits though it holds only one');
    assert.equal(waits, 1);
    await first(); // given back on node A: B learns it from the store
    const release = await third;
    assert.equal(waits, 1);
    assert.equal(b.active, 2);
    await Promise.all([second(), release(), release()]);
    assert.equal((await ctx.store.db.selectFrom('leases').selectAll().where('name', 'like', 'restore-slot:%').execute()).length, 0);
  });

  test('a waiting restore whose work is stopped stops waiting and takes no slot', async () => {
    const a = node(1);
    const held = await a.acquireSlot();
    const stop = new AbortController();
    const waiting = node(1).acquireSlot(stop.signal);
    stop.abort(new Error('server stopping'));
    await assert.rejects(waiting, /server stopping/);
    await held();
    await (await node(1).acquireSlot())();
  });

  test('the slot of a node that died comes back once its lease is older than the timeout', async () => {
    const dead = node(1, { host: 'node-gone', pid: 1, staleMs: 60_000 });
    await dead.acquireSlot();
    dead.stop(); // no more heartbeats
    const here = node(1, { staleMs: 60_000 });
    const waiting = here.acquireSlot();
    assert.equal(await settledAfterLooks(waiting, here, 1), false, 'the dead node still holds it within the timeout');
    offset += 61_000;
    await (await waiting)();
  });
}

describe('restore slots on SQLite', () => behaviours(async () => ({})));

describe('restore slots on PostgreSQL', () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startTestPostgres();
  });
  after(async () => pg?.stop());
  behaviours(async () => ({ databaseUrl: await pg.newDatabaseUrl() }));
});
