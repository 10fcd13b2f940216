import type { MigrationProvider } from 'kysely';
import { columnTypes, type Dialect } from './migrations/column-types.js';
import { initialSchema } from './migrations/initial-schema.js';
import { backupSessionsAndLeases } from './migrations/backup-sessions-and-leases.js';
import { repositoryCatalogAndJournals } from './migrations/repository-catalog-and-journals.js';

export type { Dialect };

/** Versioned migrations, in the order of their names; the dialect only matters for some column types. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  const types = columnTypes(dialect);
  return {
    async getMigrations() {
      return { ...initialSchema(types), ...backupSessionsAndLeases(types), ...repositoryCatalogAndJournals(types) };
    },
  };
}
