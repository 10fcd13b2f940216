import pg from 'pg';
import { PostgresDialect } from 'kysely';

/** PostgreSQL shared by several openem nodes. BIGINT (epoch-ms times) comes back as a JS number. */
export function createPostgresDialect(url: string): PostgresDialect {
  const types = {
    getTypeParser(oid: number, format?: any) {
      if (oid === pg.types.builtins.INT8) return (v: string) => Number(v);
      return pg.types.getTypeParser(oid, format);
    },
  };
  const pool = new pg.Pool({ connectionString: url, max: 10, types });
  return new PostgresDialect({ pool });
}
