import { randomUUID } from 'node:crypto';
import type { BaseContext } from '../../context.js';
import { conflict, notFound, badRequest } from '../../errors.js';
import { hashPassword } from './password-hash.js';
import type { AuthContext } from './session-cache.js';
import { isUniqueViolation } from '../../state/store-errors.js';
import type { Account } from './principal.js';
import { type Role, type RestoreScope, FULL_SCOPE, EMPTY_SCOPE, parseStoredScope, isRole } from './roles.js';

export type { Account } from './principal.js';

export function toAccount(row: { id: string; name: string; role: string; scope: string; created_at: number; password_changed_at: number }): Account {
  return {
    id: row.id,
    name: row.name,
    role: isRole(row.role) ? row.role : '',
    scope: parseStoredScope(row.scope),
    createdAt: Number(row.created_at),
    passwordChangedAt: Number(row.password_changed_at),
  };
}

const NAME_RE = /^[A-Za-z0-9._@\\-]{1,64}$/;

export async function createAccount(
  ctx: BaseContext,
  input: { name: string; password: string; role: Role | ''; scope?: RestoreScope },
): Promise<Account> {
  if (!NAME_RE.test(input.name)) throw badRequest('account name must be 1-64 characters of letters, digits, . _ @ \\ -');
  if (input.password.length < 1 || input.password.length > 1024) throw badRequest('password must be 1-1024 characters');
  const existing = await ctx.store.db.selectFrom('accounts').select('id').where('name', '=', input.name).executeTakeFirst();
  if (existing) throw conflict(`account ${input.name} already exists`);
  const now = ctx.clock.now();
  const scope = input.scope ?? (input.role === 'portal-admin' ? FULL_SCOPE : EMPTY_SCOPE);
  const row = {
    id: randomUUID(),
    name: input.name,
    password_hash: await hashPassword(input.password),
    role: input.role,
    scope: JSON.stringify(scope),
    created_at: now,
    password_changed_at: now,
  };
  try {
    await ctx.store.db.insertInto('accounts').values(row).execute();
  } catch (e) {
    // Another request or process created the same name between the check and the insert.
    if (isUniqueViolation(e)) throw conflict(`account ${input.name} already exists`);
    throw e;
  }
  return toAccount(row);
}

export async function findAccountByName(ctx: BaseContext, name: string) {
  return ctx.store.db.selectFrom('accounts').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function getAccount(ctx: BaseContext, id: string): Promise<Account | undefined> {
  const row = await ctx.store.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toAccount(row) : undefined;
}

export async function listAccounts(ctx: BaseContext): Promise<Account[]> {
  const rows = await ctx.store.db.selectFrom('accounts').selectAll().orderBy('name').execute();
  return rows.map(toAccount);
}

/** Changing a password ends the account's logon sessions (issue #6: sessions end when the password changes). */
export async function setPassword(ctx: AuthContext, name: string, password: string): Promise<void> {
  if (password.length < 1 || password.length > 1024) throw badRequest('password must be 1-1024 characters');
  const hash = await hashPassword(password);
  const now = ctx.clock.now();
  const r = await ctx.store.db.updateTable('accounts').set({ password_hash: hash, password_changed_at: now }).where('name', '=', name).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw notFound(`account ${name} does not exist`);
  await ctx.store.db.deleteFrom('logon_sessions').where('user_name', '=', name).execute();
  ctx.sessionCache.dropAccount({ name });
}

export async function setRoleAndScope(ctx: AuthContext, name: string, changes: { role?: Role | ''; scope?: RestoreScope }): Promise<void> {
  const set: { role?: string; scope?: string } = {};
  if (changes.role !== undefined) set.role = changes.role;
  if (changes.scope !== undefined) set.scope = JSON.stringify(changes.scope);
  const r = await ctx.store.db.updateTable('accounts').set(set).where('name', '=', name).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw notFound(`account ${name} does not exist`);
  ctx.sessionCache.dropAccount({ name });
}

/** Removing an account ends its sessions at once. */
export async function removeAccount(ctx: AuthContext, name: string): Promise<void> {
  const row = await findAccountByName(ctx, name);
  if (!row) throw notFound(`account ${name} does not exist`);
  await ctx.store.db.deleteFrom('logon_sessions').where('account_id', '=', row.id).execute();
  await ctx.store.db.deleteFrom('accounts').where('id', '=', row.id).execute();
  ctx.sessionCache.dropAccount({ id: row.id });
}
