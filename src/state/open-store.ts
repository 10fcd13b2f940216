import { Kysely, Migrator, sql } from 'kysely';
import { join } from 'node:path';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { ensurePrivateDirSync, PRIVATE_FILE_MODE } from '../host/private-data-dir.js';
import type { Database } from './schema.js';
import { migrationProvider, type Dialect } from './migrations.js';
import { createSqliteDialect } from './sqlite/sqlite-dialect.js';
import { createPostgresDialect } from './postgres/postgres-dialect.js';
import { OpenemError } from '../errors.js';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /**
   * Runs `fn` on the store and returns once what it committed, and everything committed before it, would survive a
   * power loss: SQLite commits with `synchronous = NORMAL` (they survive a crash of openem, not of the machine), so
   * this one write is made with `FULL`, which syncs the write-ahead log; PostgreSQL commits are durable anyway.
   * For a write something irreversible follows (a journal before the changes it can undo).
   */
  durably<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Opens the state store (SQLite in the data directory unless a postgres:// URL is given) and migrates it. */
export async function openStore(options: { dataDir: string; databaseUrl?: string }): Promise<Store> {
  const isPg = !!options.databaseUrl && /^postgres(ql)?:\/\//.test(options.databaseUrl);
  if (options.databaseUrl && !isPg) throw new OpenemError('BAD_CONFIG', `unsupported database URL (expected postgres://…): ${redactUrl(options.databaseUrl)}`);
  let dialectImpl;
  if (isPg) {
    dialectImpl = createPostgresDialect(options.databaseUrl!);
  } else {
    const file = join(options.dataDir, 'state.db');
    createPrivateDatabaseFile(options.dataDir, file);
    dialectImpl = createSqliteDialect(file);
    // SQLite gives -wal and -shm the database file's mode; set it anyway for files an older openem left.
    for (const f of [`${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, PRIVATE_FILE_MODE);
  }
  const dialect: Dialect = isPg ? 'postgres' : 'sqlite';
  const db = new Kysely<Database>({ dialect: dialectImpl });
  // Migrations are independent of each other and land from parallel work in any order (005 after 006 was applied):
  // a missing one is applied when it appears instead of the store refusing to open.
  const migrator = new Migrator({
    db,
    provider: migrationProvider(dialect),
    migrationTableName: 'openem_migrations',
    migrationLockTableName: 'openem_migrations_lock',
    allowUnorderedMigrations: true,
  });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    throw new OpenemError('INTERNAL', `state store migration failed: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
  const durably = <T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> => {
    if (dialect === 'postgres') return fn(db);
    // One connection (the SQLite dialect has only one): no other write slips in while FULL is on.
    return db.connection().execute(async (c) => {
      await sql`PRAGMA synchronous = FULL`.execute(c);
      try {
        return await fn(c);
      } finally {
        await sql`PRAGMA synchronous = NORMAL`.execute(c);
      }
    });
  };
  return { db, dialect, durably, close: () => db.destroy() };
}

/**
 * state.db holds password hashes: it is created empty with mode 0600 before SQLite opens it (an empty file is a
 * new database), since SQLite would create it 0644 less the umask. An existing file is set to 0600.
 */
function createPrivateDatabaseFile(dataDir: string, file: string): void {
  ensurePrivateDirSync(dataDir);
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  chmodSync(file, PRIVATE_FILE_MODE);
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
