import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { createBaseContext } from '../app-context.js';
import { attachServices } from '../attach-services.js';
import type { AppContext } from '../services/app-services.js';

/**
 * The application context for a CLI command, on the data directory of OPENEM_DATA_DIR. It never recovers
 * tasks: a server may be running on the same data directory and owns them.
 */
export async function withApp<T>(fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const base = await createBaseContext(config, createLogger(process.env.OPENEM_LOG_LEVEL ?? 'warn', process.stderr as never), {
    announce: (l) => process.stderr.write(l + '\n'),
  });
  let ctx: AppContext | undefined;
  try {
    ctx = await attachServices(base, { demo: false, startTasks: false });
    return await fn(ctx);
  } finally {
    await ctx?.shutdown();
    await base.store.close();
  }
}
