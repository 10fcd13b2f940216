import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { type BaseContext, type Clock, systemClock } from './context.js';
import { openStore } from './state/open-store.js';
import { createAccount } from './services/auth/accounts.js';
import { SessionCache, type AuthContext } from './services/auth/session-cache.js';
import { isOpenemError } from './errors.js';

export interface ContextOptions {
  clock?: Clock;
  /** Where a generated admin password is announced (once). */
  announce?: (line: string) => void;
  /** Told the password generated for the first administrator, when this start created it. */
  onAdminCreated?: (password: string) => void;
}

/**
 * Opens the store, with the cache of its logon sessions beside it (they live and go together), and makes sure
 * the first administrator exists (issue #2 §6).
 */
export async function createBaseContext(config: Config, log: Logger, options: ContextOptions = {}): Promise<AuthContext> {
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  const ctx: AuthContext = { config, store, log, clock: options.clock ?? systemClock, nodeId: randomUUID(), sessionCache: new SessionCache() };
  try {
    await ensureAdministrator(ctx, options.announce ?? ((l) => process.stdout.write(l + '\n')), options.onAdminCreated);
  } catch (e) {
    await store.close();
    throw e;
  }
  return ctx;
}

async function ensureAdministrator(ctx: BaseContext, announce: (line: string) => void, onCreated?: (password: string) => void): Promise<void> {
  const any = await ctx.store.db.selectFrom('accounts').select('id').limit(1).executeTakeFirst();
  if (any) return;
  const given = ctx.config.adminPassword;
  const password = given ?? randomBytes(18).toString('base64url');
  try {
    await createAccount(ctx, { name: 'admin', password, role: 'portal-admin' });
  } catch (e) {
    // Another node or process created it first.
    if (isOpenemError(e) && e.code === 'CONFLICT') return;
    throw e;
  }
  if (!given) onCreated?.(password);
  if (!given) announce(`openem: created account "admin" with generated password: ${password}  (shown once; change it with "openem user passwd admin")`);
}
