import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { BaseContext } from '../../context.js';
import { OpenemError } from '../../errors.js';
import { verifyPassword, DUMMY_HASH } from './password-hash.js';
import { getAccount, findAccountByName, type Account } from './accounts.js';

export interface LogonSession {
  id: string;
  accountId: string;
  userName: string;
  createdAt: number;
  lastSeenAt: number;
  address: string;
}

/** The request's identity once its token checks out. */
export interface Principal {
  session: LogonSession;
  account: Account;
}

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Writes of `last_seen_at` are spaced out so a busy client does not turn every GET into a store write. */
const TOUCH_INTERVAL_MS = 5_000;

function toSession(row: { id: string; account_id: string; user_name: string; created_at: number; last_seen_at: number; address: string }): LogonSession {
  return { id: row.id, accountId: row.account_id, userName: row.user_name, createdAt: Number(row.created_at), lastSeenAt: Number(row.last_seen_at), address: row.address };
}

const unauthorized = () => new OpenemError('UNAUTHORIZED', 'Authentication failed: the user name or password is not valid, or the account may not log on');

/**
 * Logs an account on (POST /sessionMngr). Tokens carry 256 random bits, base64 as Enterprise Manager's do;
 * only their hash is stored. The same message answers unknown accounts, wrong passwords and accounts without
 * a role, so the answer never tells whether an account exists.
 */
export async function logOn(ctx: BaseContext, userName: string, password: string, address: string): Promise<{ session: LogonSession; token: string; account: Account }> {
  const row = await findAccountByName(ctx, userName);
  const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
  if (!row || !ok || !row.role) throw unauthorized();
  const account = (await getAccount(ctx, row.id))!;
  const count = await ctx.store.db.selectFrom('logon_sessions').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', row.id).executeTakeFirst();
  if (Number(count?.n ?? 0) >= ctx.config.maxSessionsPerAccount) {
    throw new OpenemError('TOO_MANY_REQUESTS', `Too many open logon sessions for this account (limit ${ctx.config.maxSessionsPerAccount}); log off unused sessions first`);
  }
  const token = randomBytes(32).toString('base64');
  const now = ctx.clock.now();
  const s = { id: randomUUID(), token_hash: tokenHash(token), account_id: row.id, user_name: row.name, created_at: now, last_seen_at: now, address };
  await ctx.store.db.insertInto('logon_sessions').values(s).execute();
  return { session: toSession(s), token, account };
}

/** The principal behind a token, or undefined when it is unknown or idle past the timeout (then it is removed). */
export async function resolveToken(ctx: BaseContext, token: string): Promise<Principal | undefined> {
  if (!token || token.length > 512) return undefined;
  const row = await ctx.store.db.selectFrom('logon_sessions').selectAll().where('token_hash', '=', tokenHash(token)).executeTakeFirst();
  if (!row) return undefined;
  const now = ctx.clock.now();
  if (now - Number(row.last_seen_at) > ctx.config.sessionIdleSeconds * 1000) {
    await ctx.store.db.deleteFrom('logon_sessions').where('id', '=', row.id).execute();
    return undefined;
  }
  const account = await getAccount(ctx, row.account_id);
  if (!account || !account.role) return undefined;
  if (now - Number(row.last_seen_at) > TOUCH_INTERVAL_MS) {
    await ctx.store.db.updateTable('logon_sessions').set({ last_seen_at: now }).where('id', '=', row.id).execute();
    row.last_seen_at = now;
  }
  return { session: toSession(row), account };
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

export async function deleteSession(ctx: BaseContext, id: string): Promise<boolean> {
  const r = await ctx.store.db.deleteFrom('logon_sessions').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
