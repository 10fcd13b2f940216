import { createHash, randomUUID } from 'node:crypto';
import type { BaseContext } from '../../context.js';
import { OpenemError } from '../../errors.js';
import { verifyPassword, DUMMY_HASH } from './password-hash.js';
import { getAccount, findAccountByName, toAccount } from './accounts.js';
import type { Account, LogonSession, Principal } from './principal.js';
import { REVALIDATE_MS, type AuthContext } from './session-cache.js';

export type { LogonSession, Principal } from './principal.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Enterprise Manager's session token is base64 of the `SessionId` GUID (em-clients.md "Logon"). */
export function tokenOf(sessionId: string): string {
  return Buffer.from(sessionId, 'utf8').toString('base64');
}

/**
 * The `SessionId` GUID a token carries, or undefined when it is not exactly base64 of a GUID. Upper-case
 * GUIDs are accepted (a client may upper-case before encoding), and compared in lower case.
 */
export function sessionIdOfToken(token: string): string | undefined {
  if (token.length !== 48 || !/^[A-Za-z0-9+/]+$/.test(token)) return undefined;
  const text = Buffer.from(token, 'base64').toString('latin1').toLowerCase();
  return GUID.test(text) ? text : undefined;
}

const secretHash = (sessionId: string) => createHash('sha256').update(sessionId).digest('hex');

/** Writes of `last_seen_at` are spaced out so a busy client does not turn every GET into a store write. */
const TOUCH_INTERVAL_MS = 5_000;

function toSession(row: { id: string; account_id: string; user_name: string; created_at: number; last_seen_at: number; address: string }): LogonSession {
  return { id: row.id, accountId: row.account_id, userName: row.user_name, createdAt: Number(row.created_at), lastSeenAt: Number(row.last_seen_at), address: row.address };
}

const unauthorized = () => new OpenemError('UNAUTHORIZED', 'Authentication failed: the user name or password is not valid, or the account may not log on');

/**
 * Logs an account on (POST /sessionMngr). The session's secret is `SessionId`, a random v4 GUID (122 random
 * bits); the token is its base64, as Enterprise Manager's is, so clients that compute the header from the
 * logon body work (em-clients.md "Logon"). Only the secret's hash is stored. The session's `id` (its URL and
 * audit name) is a second, public GUID, so that seeing a session's link never hands out its token. The same
 * message answers unknown accounts, wrong passwords and accounts without a role, so the answer never tells
 * whether an account exists.
 */
export async function logOn(ctx: BaseContext, userName: string, password: string, address: string): Promise<{ session: LogonSession; sessionId: string; token: string; account: Account }> {
  const row = await findAccountByName(ctx, userName);
  const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
  if (!row || !ok || !row.role) throw unauthorized();
  const account = (await getAccount(ctx, row.id))!;
  const count = await ctx.store.db.selectFrom('logon_sessions').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', row.id).executeTakeFirst();
  if (Number(count?.n ?? 0) >= ctx.config.maxSessionsPerAccount) {
    throw new OpenemError('TOO_MANY_REQUESTS', `Too many open logon sessions for this account (limit ${ctx.config.maxSessionsPerAccount}); log off unused sessions first`);
  }
  const sessionId = randomUUID();
  const now = ctx.clock.now();
  const s = { id: randomUUID(), token_hash: secretHash(sessionId), account_id: row.id, user_name: row.name, created_at: now, last_seen_at: now, address };
  await ctx.store.db.insertInto('logon_sessions').values(s).execute();
  return { session: toSession(s), sessionId, token: tokenOf(sessionId), account };
}

/**
 * The principal behind a token, or undefined when it is unknown, idle past the timeout (then it is removed) or its
 * account may no longer log on. Served from the session cache while fresh (session-cache.ts).
 */
export async function resolveToken(ctx: AuthContext, token: string): Promise<Principal | undefined> {
  const sessionId = sessionIdOfToken(token);
  if (!sessionId) return undefined;
  const hash = secretHash(sessionId);
  const cache = ctx.sessionCache;
  const now = ctx.clock.now();
  const idleMs = ctx.config.sessionIdleSeconds * 1000;
  const cached = cache.get(hash);
  if (cached && now - cached.checkedAt < REVALIDATE_MS && now >= cached.checkedAt && now - cached.lastUsedAt <= idleMs) {
    cached.lastUsedAt = now;
    return cached.principal;
  }
  const row = await ctx.store.db
    .selectFrom('logon_sessions as s')
    .innerJoin('accounts as a', 'a.id', 's.account_id')
    .select([
      's.id', 's.account_id', 's.user_name', 's.created_at', 's.last_seen_at', 's.address',
      'a.name', 'a.role', 'a.scope', 'a.created_at as account_created_at', 'a.password_changed_at',
    ])
    .where('s.token_hash', '=', hash)
    .executeTakeFirst();
  if (!row) {
    cache.delete(hash);
    return undefined;
  }
  const lastSeen = Math.max(Number(row.last_seen_at), cached?.lastUsedAt ?? 0);
  if (now - lastSeen > idleMs) {
    cache.delete(hash);
    await ctx.store.db.deleteFrom('logon_sessions').where('id', '=', row.id).execute();
    return undefined;
  }
  const account = toAccount({ id: row.account_id, name: row.name, role: row.role, scope: row.scope, created_at: row.account_created_at, password_changed_at: row.password_changed_at });
  if (!account.role) {
    cache.delete(hash);
    return undefined;
  }
  if (now - Number(row.last_seen_at) > TOUCH_INTERVAL_MS) {
    await ctx.store.db.updateTable('logon_sessions').set({ last_seen_at: now }).where('id', '=', row.id).execute();
    row.last_seen_at = now;
  }
  const principal = { session: toSession(row), account, sessionId };
  cache.set(hash, { principal, checkedAt: now, lastUsedAt: now });
  return principal;
}

export async function listSessions(ctx: BaseContext, accountId?: string): Promise<LogonSession[]> {
  let q = ctx.store.db.selectFrom('logon_sessions').selectAll().where('last_seen_at', '>=', ctx.clock.now() - ctx.config.sessionIdleSeconds * 1000);
  if (accountId) q = q.where('account_id', '=', accountId);
  return (await q.orderBy('created_at').execute()).map(toSession);
}

export async function getSession(ctx: BaseContext, id: string): Promise<LogonSession | undefined> {
  const row = await ctx.store.db.selectFrom('logon_sessions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || ctx.clock.now() - Number(row.last_seen_at) > ctx.config.sessionIdleSeconds * 1000) return undefined;
  return toSession(row);
}

export async function deleteSession(ctx: AuthContext, id: string): Promise<boolean> {
  ctx.sessionCache.dropSession(id);
  const r = await ctx.store.db.deleteFrom('logon_sessions').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
