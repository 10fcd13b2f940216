import { Kysely, Migrator } from 'kysely';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Database } from './schema.js';
import { migrationProvider, type Dialect } from './migrations.js';
import { createSqliteDialect } from './sqlite/sqlite-dialect.js';
import { createPostgresDialect } from './postgres/postgres-dialect.js';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

/** Opens the state store (SQLite in the data directory unless a postgres:// URL is given) and migrates it. */
export async function openStore(options: { dataDir: string; databaseUrl?: string }): Promise<Store> {
  const isPg = !!options.databaseUrl && /^postgres(ql)?:\/\//.test(options.databaseUrl);
  if (options.databaseUrl && !isPg) throw new Error(`unsupported database URL (expected postgres://…): ${redactUrl(options.databaseUrl)}`);
  let dialectImpl;
  if (isPg) {
    dialectImpl = createPostgresDialect(options.databaseUrl!);
  } else {
    mkdirSync(options.dataDir, { recursive: true });
    dialectImpl = createSqliteDialect(join(options.dataDir, 'state.db'));
  }
  const dialect: Dialect = isPg ? 'postgres' : 'sqlite';
  const db = new Kysely<Database>({ dialect: dialectImpl });
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), migrationTableName: 'openem_migrations', migrationLockTableName: 'openem_migrations_lock' });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    throw new Error(`state store migration failed: ${(error as Error).message ?? String(error)}`);
  }
  return { db, dialect, close: () => db.destroy() };
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
