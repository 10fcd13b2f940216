// The `mounts` table's rules (mount-rows.ts): numbers stay unique per restore point under a race, only a lost race
// is retried, and a start removes exactly the rows a stopped process left. The same tests on SQLite and PostgreSQL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KyselyPlugin } from 'kysely';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { createBaseContext } from '../../../src/app-context.js';
import type { BaseContext } from '../../../src/context.js';
import { countMountRows, insertMountRow, removeDeadMountRows } from '../../../src/services/mounts/mount-rows.js';
import { startTestPostgres, type TestPostgres } from '../../state/postgres-fixture.js';

const IDLE_SECONDS = 600;

/** Counts the INSERT statements sent through the instance it is attached to. */
function insertCounter(): KyselyPlugin & { inserts: number } {
  const plugin = {
    inserts: 0,
    transformQuery(args: { node: { kind: string } }) {
      if (args.node.kind === 'InsertQueryNode') plugin.inserts++;
      return args.node as never;
    },
    async transformResult(args: { result: unknown }) {
      return args.result as never;
    },
  };
  return plugin;
}

function behaviours(where: () => Promise<{ dataDir: string; databaseUrl?: string }>, shared: boolean) {
  let ctx: BaseContext & { advance(ms: number): void };
  let dataDir: string;
  before(async () => {
    const w = await where();
    dataDir = w.dataDir;
    let now = Date.UTC(2025, 0, 1);
    const config = loadConfig({ env: {}, flags: { ...w, adminPassword: 'Admin-pass-1', mountIdleSeconds: IDLE_SECONDS } });
    const base = await createBaseContext(config, createLogger('silent'), { clock: { now: () => now }, announce: () => {} });
    ctx = Object.assign(base, { advance: (ms: number) => (now += ms) });
  });
  after(async () => {
    await ctx.store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const row = (vmRestorePointId: string) => ({ id: randomUUID(), vmRestorePointId, osKind: 'Linux' as const, accountId: 'a', folder: null });

  test('mounts of one restore point racing for a number each get their own, counted from 1', async () => {
    const point = randomUUID();
    const numbers = await Promise.all(Array.from({ length: 4 }, () => insertMountRow(ctx, row(point))));
    assert.deepEqual([...numbers].sort(), [1, 2, 3, 4]);
    assert.equal(await insertMountRow(ctx, row(randomUUID())), 1, 'another point counts from 1');
  });

  test('an insert that fails for another reason than a lost race is not retried', async () => {
    const counter = insertCounter();
    const counted = { ...ctx, store: { ...ctx.store, db: ctx.store.db.withPlugin(counter) } };
    // NOT NULL violation: os_kind missing.
    await assert.rejects(insertMountRow(counted, { ...row(randomUUID()), osKind: null as never }));
    assert.equal(counter.inserts, 1);
  });

  test(shared ? 'at a start, other nodes\u2019 rows go only once unused for longer than the idle limit' : 'at a start, every row goes: one server owns a SQLite store', async () => {
    await ctx.store.db.deleteFrom('mounts').execute();
    const other = { ...ctx, nodeId: randomUUID() };
    await insertMountRow(other, row(randomUUID()));
    ctx.advance(IDLE_SECONDS * 1000 + 1);
    await insertMountRow(other, row(randomUUID())); // used just now
    assert.equal(await removeDeadMountRows(ctx), shared ? 1 : 2);
    assert.equal(await countMountRows(ctx), shared ? 1 : 0);
  });
}

describe('mount rows on SQLite', () => behaviours(async () => ({ dataDir: mkdtempSync(join(tmpdir(), 'openem-mount-rows-')) }), false));

describe('mount rows on PostgreSQL', () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startTestPostgres();
  });
  after(async () => pg?.stop());
  behaviours(async () => ({ dataDir: mkdtempSync(join(tmpdir(), 'openem-mount-rows-')), databaseUrl: await pg.newDatabaseUrl() }), true);
});
