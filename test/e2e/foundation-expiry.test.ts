// Idle expiry of logon sessions (em-api.md §1: 15 idle minutes, each request resets it), driven through an
// injected clock on a server running in this process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createBaseContext } from '../../src/app-context.js';
import { attachServices } from '../../src/attach-services.js';
import { startServer } from '../../src/server.js';
import { freePort } from '../helpers/free-port.js';
import { EmClient } from '../helpers/em-client.js';
import { ADMIN_PASSWORD } from '../helpers/server-process.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';

const MINUTE = 60_000;

test('a session idle for 15 minutes gets 401; each request before that resets the idle time', async (t) => {
  let now = Date.UTC(2025, 0, 1);
  const clock = { now: () => now };
  const config = loadConfig({
    env: {},
    flags: { dataDir: tempDir(cleanupOf(t), 'openem-expiry-'), listen: '127.0.0.1', httpsPort: 0, httpPort: await freePort(), adminPassword: ADMIN_PASSWORD },
  });
  const base = await createBaseContext(config, createLogger('silent'), { clock });
  const ctx = await attachServices(base, { demo: false, startTasks: false });
  const server = await startServer(ctx, config, [], 'test');
  try {
    const c = new EmClient(server.urls.http!);
    assert.equal((await c.logOn()).status, 201);
    const other = new EmClient(server.urls.http!);
    assert.equal((await other.logOn()).status, 201);

    now += 14 * MINUTE;
    assert.equal((await c.get(`${server.urls.http}/api/logonSessions`)).status, 200, 'alive after 14 idle minutes');
    now += 14 * MINUTE;
    assert.equal((await c.get(`${server.urls.http}/api/logonSessions`)).status, 200, 'the previous request reset the idle time');
    now += 15 * MINUTE + 1000;
    const expired = await c.get(`${server.urls.http}/api/logonSessions`);
    assert.equal(expired.status, 401);
    assert.equal(expired.headers.get('www-authenticate'), 'Basic Realm=RestSvc');
    assert.equal(expired.body.Error.StatusCode, '401');
    // The other session, idle since logon, expired long ago too.
    assert.equal((await other.get(`${server.urls.http}/api/logonSessions`)).status, 401);

    const fresh = new EmClient(server.urls.http!);
    assert.equal((await fresh.logOn()).status, 201);
    const list = await fresh.get(`${server.urls.http}/api/logonSessions`);
    assert.equal(list.body.LogonSessions.LogonSession.length, 1, 'expired sessions are not listed');
  } finally {
    await server.close();
    await ctx.shutdown();
    await base.store.close();
  }
});
