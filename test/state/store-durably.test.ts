// Store.durably: a write something irreversible follows (the PermissionsOnly journal before the first descriptor is
// set) is made with SQLite's synchronous = FULL, which syncs the write-ahead log; every other write keeps NORMAL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openStore } from '../../src/state/open-store.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

test('SQLite: the write inside durably() runs with synchronous FULL, is committed, and NORMAL is back after it, also when it fails', async () => {
  const store = await openStore({ dataDir: tempDir(cleanup, 'openem-durably-') });
  try {
    const level = async (db: typeof store.db) => Number(((await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(db)).rows[0] as { synchronous: number }).synchronous);
    assert.equal(await level(store.db), 1, 'NORMAL for ordinary writes');
    const inside = await store.durably(async (db) => {
      await sql`CREATE TABLE t (x INTEGER)`.execute(db);
      await sql`INSERT INTO t VALUES (42)`.execute(db);
      return level(db);
    });
    assert.equal(inside, 2, 'FULL while the durable write commits');
    assert.equal(await level(store.db), 1, 'NORMAL again afterwards');
    const rows = (await sql<{ x: number }>`SELECT x FROM t`.execute(store.db)).rows;
    assert.deepEqual(rows, [{ x: 42 }]);
    await assert.rejects(store.durably(async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await level(store.db), 1, 'a failed durable write leaves NORMAL too');
  } finally {
    await store.close();
  }
});
