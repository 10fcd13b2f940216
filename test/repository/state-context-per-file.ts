import { join } from 'node:path';
import { after, before } from 'node:test';
import { createBaseContext } from '../../src/app-context.js';
import { loadConfig } from '../../src/config.js';
import type { BaseContext } from '../../src/context.js';
import { createLogger } from '../../src/logger.js';
import { tempDir } from './repository-fixtures.js';

/**
 * A state store (a base context over a temporary data folder) made before the file's tests and closed, with its
 * folder removed, after them. `where` names the backend: `{}` for SQLite, `{ databaseUrl }` for PostgreSQL.
 */
export function stateContextPerFile(where: () => Promise<{ databaseUrl?: string }>): { readonly ctx: BaseContext; readonly dir: string } {
  let ctx: BaseContext | undefined;
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
  before(async () => {
    dir = await tempDir();
    const config = loadConfig({ env: {}, flags: { dataDir: join(dir.path, 'data'), adminPassword: 'Admin-pass-1', ...(await where()) } });
    ctx = await createBaseContext(config, createLogger('silent'), { announce: () => {} });
  });
  after(async () => {
    await ctx?.store.close();
    await dir?.cleanup();
  });
  return {
    get ctx() {
      return ctx!;
    },
    get dir() {
      return dir!.path;
    },
  };
}
