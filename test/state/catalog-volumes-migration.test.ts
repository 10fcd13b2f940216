// Migration 005_catalog_volumes on SQLite and on a real PostgreSQL: catalog rows indexed before volumes keep their
// meaning (volume '', the one `/` names), and one path may then exist once per volume.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, Migrator } from 'kysely';
import { migrationProvider, type Dialect } from '../../src/state/migrations.js';
import { openStore } from '../../src/state/open-store.js';
import { createSqliteDialect } from '../../src/state/sqlite/sqlite-dialect.js';
import { createPostgresDialect } from '../../src/state/postgres/postgres-dialect.js';
import { startTestPostgres, type TestPostgres } from './postgres-fixture.js';

const RP = '7d4a7c1e-0000-4000-8000-00000000abcd';
const row = (path: string) => ({ vm_restore_point_id: RP, path, parent_path: '/', name: path.slice(1), type: 'file', size: 3, mtime: 1_700_000_000_000 });

/** A store as openem before volumes left it: migrated up to 004, with two catalog rows. */
async function storeBeforeVolumes(dialect: Dialect, where: { dataDir: string; databaseUrl?: string }): Promise<void> {
  const db = new Kysely<any>({ dialect: dialect === 'sqlite' ? createSqliteDialect(join(where.dataDir, 'state.db')) : createPostgresDialect(where.databaseUrl!) });
  try {
    const migrator = new Migrator({ db, provider: migrationProvider(dialect), migrationTableName: 'openem_migrations', migrationLockTableName: 'openem_migrations_lock' });
    const { error } = await migrator.migrateTo('004_backup_sessions');
    if (error) throw error;
    await db.insertInto('catalog_entries').values([row('/hosts'), row('/motd')]).execute();
  } finally {
    await db.destroy();
  }
}

function behaviours(dialect: Dialect, fresh: () => Promise<{ dataDir: string; databaseUrl?: string }>) {
  test(`${dialect}: rows from before volumes are on volume '', and a path can then be on two volumes`, async (t) => {
    const where = await fresh();
    await storeBeforeVolumes(dialect, where);
    const store = await openStore(where);
    t.after(() => store.close());
    const rows = await store.db.selectFrom('catalog_entries').selectAll().orderBy('path').execute();
    assert.deepEqual(rows.map((r) => [r.volume, r.path, Number(r.size)]), [['', '/hosts', 3], ['', '/motd', 3]]);
    await store.db.insertInto('catalog_entries').values({ ...row('/hosts'), volume: 'disk1' }).execute();
    await assert.rejects(store.db.insertInto('catalog_entries').values({ ...row('/hosts'), volume: 'disk1' }).execute(), (e: unknown) =>
      ['23505', 'SQLITE_CONSTRAINT_PRIMARYKEY'].includes((e as { code?: string }).code ?? ''),
    );
    await store.db.insertInto('catalog_volumes').values({ vm_restore_point_id: RP, volume: 'disk1', disk_name: 'disk1', partition_index: null, fs_kind: 'ext4', drive_letter: null }).execute();
    assert.equal((await store.db.selectFrom('catalog_volumes').selectAll().execute()).length, 1);
  });
}

describe('catalog volumes migration on SQLite', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  behaviours('sqlite', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openem-migrate-'));
    dirs.push(dataDir);
    return { dataDir };
  });
});

describe('catalog volumes migration on PostgreSQL', () => {
  let pg: TestPostgres;
  const dirs: string[] = [];
  before(async () => {
    pg = await startTestPostgres();
  });
  after(async () => {
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
    await pg?.stop();
  });
  behaviours('postgres', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openem-migrate-'));
    dirs.push(dataDir);
    return { dataDir, databaseUrl: await pg.newDatabaseUrl() };
  });
});
