import BetterSqlite3 from 'better-sqlite3';
import { SqliteDialect } from 'kysely';

/** SQLite in one file: nothing to install or run. WAL lets the CLI and the server share it. */
export function createSqliteDialect(file: string): SqliteDialect {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return new SqliteDialect({ database: db });
}
