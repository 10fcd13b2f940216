// /readyz reports the state store and the object store (issue #14): 200 while both answer; 503 naming the object
// store once the S3 server is stopped, within the probe's timeout, while /healthz still answers (the process lives).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';
import { startServerProcess } from '../helpers/server-process.js';
import { startS3Server } from '../repository/s3-test-server.js';

test('readyz is 200 with the database and the S3 repository answering, and 503 naming the object store once S3 is stopped', async (t) => {
  const cleanup = cleanupOf(t);
  const s3 = await startS3Server();
  let s3Running = true;
  cleanup.defer(() => (s3Running ? s3.stop() : undefined));
  const url = `s3://${s3.bucket}/openem-${randomUUID()}`;
  const server = await startServerProcess({ dataDir: tempDir(cleanup, 'openem-readyz-'), env: { ...s3.env, OPENEM_REPOSITORY_URL: url } });
  cleanup.defer(() => server.stop());

  const ready = await fetch(`${server.http}/readyz`);
  const up = await ready.json();
  assert.equal(ready.status, 200, JSON.stringify(up));
  assert.deepEqual(up, { status: 'ready', database: { status: 'ok' }, objectStore: { status: 'ok', location: up.objectStore.location } });
  assert.match(up.objectStore.location, new RegExp(`^s3://${s3.bucket}/`));

  await s3.stop();
  s3Running = false;
  const notReady = await fetch(`${server.http}/readyz`);
  const down = await notReady.json();
  assert.equal(notReady.status, 503, JSON.stringify(down));
  assert.equal(down.status, 'not ready');
  assert.deepEqual(down.database, { status: 'ok' });
  assert.equal(down.objectStore.status, 'unavailable');
  assert.match(down.objectStore.detail, /./);
  assert.equal((await fetch(`${server.http}/healthz`)).status, 200);
});
