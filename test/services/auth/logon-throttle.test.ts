// How long LogonThrottle holds back the answer to each failed logon, and when it locks — on a controlled clock,
// so the slow-down is asserted as the throttle's answer rather than timed (issue #15: no timing in correctness tests).
// The counters live in the state store, so two throttles on one store (two nodes) count together (issue #14).
// SQLite and PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BaseContext } from '../../../src/context.js';
import { isOpenemError } from '../../../src/errors.js';
import { LogonThrottle } from '../../../src/services/auth/logon-throttle.js';
import { openStore, type Store } from '../../../src/state/open-store.js';
import { startTestPostgres, type TestPostgres } from '../../state/postgres-fixture.js';

function behaviours(where: () => Promise<{ databaseUrl?: string }>) {
  let store: Store;
  let dataDir: string;
  let round = 0;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'openem-throttle-'));
    store = await openStore({ dataDir, ...(await where()) });
  });
  after(async () => {
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A throttle (a node) on the shared store; each test counts under its own addresses and names. */
  function throttle(limit: number, clock = { at: 1_000_000, now: () => clock.at }, maxRows?: number) {
    const ctx = { config: { logonFailureLimit: limit, logonLockoutSeconds: 600 }, clock, store } as unknown as BaseContext;
    return { t: new LogonThrottle(ctx, maxRows), clock };
  }
  const names = () => {
    round++;
    return { ip: (i: number) => `10.${round}.0.${i}`, user: (s: string) => `${s}-${round}` };
  };

  async function lockedFor(t: LogonThrottle, address: string, user: string): Promise<number | undefined> {
    try {
      await t.assertNotLocked(address, user);
      return undefined;
    } catch (e) {
      assert.ok(isOpenemError(e) && e.code === 'TOO_MANY_REQUESTS', String(e));
      return (e as { retryAfterSeconds?: number }).retryAfterSeconds ?? -1;
    }
  }

  test('each failed logon after the first is held back longer: 100 ms doubling, at most 2 s', async () => {
    const { t } = throttle(100);
    const n = names();
    const holds = [];
    for (let i = 0; i < 8; i++) holds.push(await t.failed(n.ip(1), n.user('admin')));
    assert.deepEqual(holds, [0, 100, 200, 400, 800, 1600, 2000, 2000]);
  });

  test('failures of one name from many addresses, or of many names from one address, are held back alike', async () => {
    const { t } = throttle(100);
    const n = names();
    const byName = [];
    for (const i of [1, 2, 3]) byName.push(await t.failed(n.ip(i), n.user('admin')));
    assert.deepEqual(byName, [0, 100, 200]);
    const byAddress = [];
    for (const i of [1, 2, 3]) byAddress.push(await t.failed(n.ip(9), n.user(`name${i}`)));
    assert.deepEqual(byAddress, [0, 100, 200]);
  });

  test('at the limit the name and the address are locked for the lockout, and a success clears the counters', async () => {
    const { t, clock } = throttle(3);
    const n = names();
    const [ip, admin] = [n.ip(1), n.user('admin')];
    for (let i = 0; i < 3; i++) assert.equal(await lockedFor(t, ip, admin), undefined, `not locked after ${i} failures`);
    for (let i = 0; i < 3; i++) await t.failed(ip, admin);
    assert.equal(await lockedFor(t, ip, admin), 600);
    assert.equal(await lockedFor(t, n.ip(9), admin), 600, 'the name is locked from any address');
    assert.equal(await lockedFor(t, ip, n.user('paul')), 600, 'the address is locked for any name');
    assert.equal(await lockedFor(t, n.ip(9), n.user('paul')), undefined);
    clock.at += 600_001;
    assert.equal(await lockedFor(t, ip, admin), undefined, 'the lock ends with the lockout');
    assert.equal(await t.failed(ip, admin), 0, 'a counter whose window and lock are over starts again');
    await t.failed(ip, admin);
    await t.succeeded(ip, admin);
    assert.equal(await t.failed(ip, admin), 0, 'a success cleared the count');
  });

  test('two nodes on one store count the same failures: a guesser alternating between them meets one limit', async () => {
    const clock = { at: 2_000_000, now: () => clock.at };
    const a = throttle(4, clock).t;
    const b = throttle(4, clock).t;
    const n = names();
    assert.deepEqual([await a.failed(n.ip(1), n.user('admin')), await b.failed(n.ip(1), n.user('admin')), await a.failed(n.ip(1), n.user('admin'))], [0, 100, 200]);
    assert.equal(await lockedFor(b, n.ip(1), n.user('admin')), undefined);
    await b.failed(n.ip(1), n.user('admin'));
    assert.equal(await lockedFor(a, n.ip(1), n.user('admin')), 600, 'locked on the node that did not see the last failure');
    assert.equal(await lockedFor(b, n.ip(1), n.user('admin')), 600);
    // Failures counted at once on both nodes are all counted (one statement each, no read-then-write).
    const m = names();
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).failed(m.ip(i), m.user('root'))));
    assert.equal(await a.failed(m.ip(99), m.user('root')), 2000, 'the eleventh failure of the name is held back 2 s');
    const row = await store.db.selectFrom('logon_failures').selectAll().where('key', '=', `u:${m.user('root')}`).executeTakeFirstOrThrow();
    assert.equal(Number(row.failures), 11);
  });

  // Last: a cap this small evicts the counters the tests above left.
  test('a spray of distinct names keeps the table at its cap, evicting the oldest counters, never a lock', async () => {
    const clock = { at: 3_000_000, now: () => clock.at };
    const { t } = throttle(3, clock, 8);
    const n = names();
    for (let i = 0; i < 3; i++) await t.failed(n.ip(1), n.user('admin'));
    clock.at += 1;
    for (let i = 0; i < 2; i++) await t.failed(n.ip(2), n.user('paul'));
    for (let i = 0; i < 200; i++) {
      clock.at += 1;
      await t.failed(`10.200.${i >> 8}.${i & 255}`, n.user(`spray${i}`));
    }
    const rows = await store.db.selectFrom('logon_failures').select(['key', 'failures']).execute();
    assert.equal(rows.length, 8, 'the table holds its cap of counters');
    const keys = new Set(rows.map((r) => r.key));
    assert.ok(keys.has(`u:${n.user('admin')}`) && keys.has(`a:${n.ip(1)}`), 'the locked name and address are kept');
    assert.ok(keys.has(`u:${n.user('paul')}`), 'a name one failure from its lock is kept');
    assert.ok(keys.has(`u:${n.user('spray199')}`) && !keys.has(`u:${n.user('spray0')}`), 'among single failures the oldest went first');
    assert.equal(await lockedFor(t, n.ip(9), n.user('admin')), 600, 'the name is still locked after the spray');
    await t.failed(n.ip(3), n.user('paul'));
    assert.equal(await lockedFor(t, n.ip(9), n.user('paul')), 600, "paul's third failure still locks him");
  });
}

describe('logon throttle on SQLite', () => behaviours(async () => ({})));

describe('logon throttle on PostgreSQL', () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startTestPostgres();
  });
  after(async () => pg?.stop());
  behaviours(async () => ({ databaseUrl: await pg.newDatabaseUrl() }));
});
