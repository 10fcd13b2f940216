// The state store's behaviour, the same tests on SQLite and on a real PostgreSQL (issue #2 §7, STYLE.md
// "run the same behaviour tests on SQLite and PostgreSQL").
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createBaseContext } from '../../src/app-context.js';
import { openStore } from '../../src/state/open-store.js';
import type { AuthContext } from '../../src/services/auth/session-cache.js';
import { createAccount, listAccounts, removeAccount, setPassword, setRoleAndScope } from '../../src/services/auth/accounts.js';
import { logOn, resolveToken, listSessions, getSession, deleteSession } from '../../src/services/auth/logon-sessions.js';
import { parseScope } from '../../src/services/auth/roles.js';
import { searchCatalog } from '../../src/services/inventory/catalog-search.js';
import { startTestPostgres, type TestPostgres } from './postgres-fixture.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';

// Each fresh data directory goes when the file ends, after every suite has closed its stores.
const cleanup = fileCleanup();

const MINUTE = 60_000;

interface Backend {
  name: string;
  /** Settings for a fresh, empty store. */
  fresh(): Promise<{ dataDir: string; databaseUrl?: string }>;
}

export interface TestContext extends AuthContext {
  advance(ms: number): void;
}

async function contextOn(where: { dataDir: string; databaseUrl?: string }, overrides: Record<string, unknown> = {}): Promise<TestContext> {
  let now = Date.UTC(2025, 0, 1);
  const config = loadConfig({ env: {}, flags: { ...where, adminPassword: 'Admin-pass-1', ...overrides } });
  const ctx = await createBaseContext(config, createLogger('silent'), { clock: { now: () => now }, announce: () => {} });
  return Object.assign(ctx, { advance: (ms: number) => (now += ms) });
}

const errorCode = (code: string) => (e: unknown) => (e as { code?: string }).code === code;

function behaviours(backend: () => Backend) {
  let ctx: TestContext;
  before(async () => {
    ctx = await contextOn(await backend().fresh());
  });
  after(async () => ctx.store.close());

  test('first start creates the administrator, and migrating again is a no-op', async () => {
    const where = await backend().fresh();
    const first = await contextOn(where);
    await first.store.close();
    const again = await openStore(where);
    try {
      const accounts = await again.db.selectFrom('accounts').select(['name', 'role']).execute();
      assert.deepEqual(accounts, [{ name: 'admin', role: 'portal-admin' }]);
    } finally {
      await again.close();
    }
  });

  test('accounts are created once; a second one with the same name is a conflict, even when racing', async () => {
    await createAccount(ctx, { name: 'alice', password: 'pw-alice', role: 'portal-user', scope: parseScope('vm:web01') });
    await assert.rejects(createAccount(ctx, { name: 'alice', password: 'x', role: '' }), errorCode('CONFLICT'));
    const results = await Promise.allSettled([0, 1, 2].map(() => createAccount(ctx, { name: 'racer', password: 'x', role: 'portal-user' })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code?: string }).code, 'CONFLICT');
    const alice = (await listAccounts(ctx)).find((a) => a.name === 'alice')!;
    assert.deepEqual(alice.scope.vms, ['web01']);
    assert.equal(alice.role, 'portal-user');
    assert.equal(typeof alice.createdAt, 'number');
  });

  test('logon returns a token that resolves to the account; wrong passwords and role-less accounts are refused alike', async () => {
    await createAccount(ctx, { name: 'bob', password: 'pw-bob', role: 'restore-operator' });
    await createAccount(ctx, { name: 'norole', password: 'pw-norole', role: '' });
    const { token, session } = await logOn(ctx, 'bob', 'pw-bob', '192.0.2.1');
    const p = await resolveToken(ctx, token);
    assert.equal(p?.account.name, 'bob');
    assert.equal(p?.session.id, session.id);
    assert.equal(p?.session.address, '192.0.2.1');
    const messages = await Promise.all(
      [logOn(ctx, 'bob', 'wrong', 'a'), logOn(ctx, 'norole', 'pw-norole', 'a'), logOn(ctx, 'ghost', 'x', 'a')].map((pr) =>
        pr.then(() => 'accepted', (e: { code: string; message: string }) => `${e.code}: ${e.message}`),
      ),
    );
    assert.equal(new Set(messages).size, 1, messages.join(' | '));
    assert.match(messages[0], /^UNAUTHORIZED/);
    assert.equal(await resolveToken(ctx, 'not-a-token'), undefined);
  });

  test('a session expires after the idle timeout; using it resets the idle time', async () => {
    await createAccount(ctx, { name: 'carol', password: 'pw', role: 'portal-user' });
    const { token, session } = await logOn(ctx, 'carol', 'pw', 'a');
    ctx.advance(14 * MINUTE);
    assert.ok(await resolveToken(ctx, token));
    ctx.advance(14 * MINUTE);
    assert.ok(await resolveToken(ctx, token), 'touched by the previous use');
    ctx.advance(15 * MINUTE + 1);
    assert.equal(await resolveToken(ctx, token), undefined);
    assert.equal(await getSession(ctx, session.id), undefined);
  });

  test('logoff deletes the session; the token no longer resolves', async () => {
    await createAccount(ctx, { name: 'dave', password: 'pw', role: 'portal-user' });
    const { token, session } = await logOn(ctx, 'dave', 'pw', 'a');
    assert.equal(await deleteSession(ctx, session.id), true);
    assert.equal(await deleteSession(ctx, session.id), false);
    assert.equal(await resolveToken(ctx, token), undefined);
  });

  test('changing the password or removing the account ends its sessions', async () => {
    await createAccount(ctx, { name: 'erin', password: 'pw1', role: 'portal-user' });
    const a = await logOn(ctx, 'erin', 'pw1', 'a');
    await setPassword(ctx, 'erin', 'pw2');
    assert.equal(await resolveToken(ctx, a.token), undefined);
    await assert.rejects(logOn(ctx, 'erin', 'pw1', 'a'), errorCode('UNAUTHORIZED'));
    const b = await logOn(ctx, 'erin', 'pw2', 'a');
    await removeAccount(ctx, 'erin');
    assert.equal(await resolveToken(ctx, b.token), undefined);
    await assert.rejects(logOn(ctx, 'erin', 'pw2', 'a'), errorCode('UNAUTHORIZED'));
    await assert.rejects(removeAccount(ctx, 'erin'), errorCode('NOT_FOUND'));
  });

  test('taking the role away ends access at the next request', async () => {
    await createAccount(ctx, { name: 'frank', password: 'pw', role: 'portal-user' });
    const { token } = await logOn(ctx, 'frank', 'pw', 'a');
    await setRoleAndScope(ctx, 'frank', { role: '' });
    assert.equal(await resolveToken(ctx, token), undefined);
  });

  test('open sessions per account are bounded', async () => {
    const small = await contextOn(await backend().fresh(), { maxSessionsPerAccount: 2 });
    try {
      await logOn(small, 'admin', 'Admin-pass-1', 'a');
      await logOn(small, 'admin', 'Admin-pass-1', 'a');
      await assert.rejects(logOn(small, 'admin', 'Admin-pass-1', 'a'), errorCode('TOO_MANY_REQUESTS'));
    } finally {
      await small.store.close();
    }
  });

  test('a catalog search matches `_` and `%` literally, and `*` and `?` as wildcards', async () => {
    const names = ['a_b.txt', 'axb.txt', '50%off.txt', '50-percent-off.txt', 'back\\slash.txt', 'backxslash.txt'];
    await ctx.store.db
      .insertInto('catalog_entries')
      .values(names.map((name) => ({ vm_restore_point_id: 'p-like', volume: '', path: '/' + name, parent_path: '/', name, type: 'file', size: 1, mtime: 0 })))
      .execute();
    const search = async (pattern: string) => (await searchCatalog(ctx, pattern, ['p-like'], 100)).map((h) => h.name).sort();
    assert.deepEqual(await search('a_b.txt'), ['a_b.txt']);
    assert.deepEqual(await search('50%off.txt'), ['50%off.txt']);
    assert.deepEqual(await search('back\\slash.txt'), ['back\\slash.txt']);
    assert.deepEqual(await search('a?b.*'), ['a_b.txt', 'axb.txt']);
    assert.deepEqual(await search('50*OFF.TXT'), ['50%off.txt', '50-percent-off.txt']);
  });

  test('sessions are listed per account, or all', async () => {
    await createAccount(ctx, { name: 'gina', password: 'pw', role: 'portal-user' });
    const g = await logOn(ctx, 'gina', 'pw', 'a');
    const mine = await listSessions(ctx, g.account.id);
    assert.deepEqual(mine.map((s) => s.userName), ['gina']);
    assert.ok((await listSessions(ctx)).some((s) => s.userName === 'gina'));
  });
}

const sqlite: Backend = { name: 'SQLite', fresh: async () => ({ dataDir: tempDir(cleanup, 'openem-store-') }) };

describe('state store on SQLite', () => behaviours(() => sqlite));

describe('state store on PostgreSQL', () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startTestPostgres();
  });
  after(async () => pg?.stop());
  behaviours(() => ({
    name: 'PostgreSQL',
    fresh: async () => ({ dataDir: tempDir(cleanup, 'openem-store-'), databaseUrl: await pg.newDatabaseUrl() }),
  }));
});
