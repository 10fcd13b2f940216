// Issue #14 item 1 end to end: with OPENEM_REPOSITORY_URL=s3://… (an S3 server on loopback) the CLI backs a VM up
// into the bucket, the server restores it in place with the bytes of backup time, and `repo check --read-data`
// reads every block back from S3; nothing goes to the data directory's repository folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { cliOk, runCli } from '../helpers/cli.js';
import { startServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink } from '../helpers/em-client.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';
import { S3BlobStore, s3OptionsFromEnv } from '../../src/repository/stores/s3/s3-blob-store.js';
import { scribble, sha256File } from '../services/restore-vm/restore-fixtures.js';
import { diskPathOf, findPointEntity, rootOf, waitForSession, waitForTask } from './vm-restore-fixtures.js';
import { S3RVER_KEY, startS3Server } from '../repository/s3-test-server.js';

test('a server and CLI on an s3:// repository back up a VM and restore it with the same bytes', async (t) => {
  const cleanup = cleanupOf(t);
  const s3 = await startS3Server();
  cleanup.defer(() => s3.stop());
  const url = `s3://${s3.bucket}/openem-${randomUUID()}`;
  const env = { ...s3.env, OPENEM_REPOSITORY_URL: url };
  const dataDir = tempDir(cleanup, 'openem-s3-e2e-');
  const src = tempDir(cleanup, 'openem-s3-src-');
  mkdirSync(join(src, 'etc'));
  writeFileSync(join(src, 'etc', 'hostname'), 'vm\n');
  writeFileSync(join(src, 'big.bin'), randomBytes(40 * 2 ** 20));

  await cliOk(dataDir, ['vm', 'create', 's3vm', '--from-dir', src, '--size', '64M'], { env });
  const disk = await diskPathOf(dataDir, 's3vm');
  const atBackup = await sha256File(disk);
  const backup = JSON.parse(await cliOk(dataDir, ['backup', 's3vm', '--json'], { env }));
  assert.equal(backup[0].pointType, 'Full');
  assert.equal(existsSync(join(dataDir, 'repository')), false, 'nothing was written to the local repository folder');

  const store = S3BlobStore.fromUrl(new URL(url), { ...s3OptionsFromEnv(s3.env), credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY } });
  cleanup.defer(() => store.destroy());
  const keys = await store.list('');
  assert.ok(keys.includes('config.json'), keys.join(' '));
  assert.ok(keys.some((k) => k.startsWith('packs/') && k.endsWith('.pack')), 'packs are in the bucket');
  assert.ok(keys.some((k) => k.startsWith('manifests/')), 'the manifest is in the bucket');

  const reference = join(tempDir(cleanup, 'openem-s3-ref-'), 'disk0.img');
  await copyFile(disk, reference);
  await scribble(disk, [0, 5, 20, 40]);
  assert.notEqual(await sha256File(disk), atBackup);

  const server = await startServerProcess({ dataDir, env });
  cleanup.defer(() => server.stop());
  const c = new EmClient(server.http, 'json');
  const point = await findPointEntity(c, 's3vm');
  const posted = await c.request('POST', findLink(point, 'Restore')!.Href, {});
  assert.equal(posted.status, 202, posted.text);
  const task = await waitForTask(c, rootOf(posted.body, 'json', 'Task').Href);
  const session = await waitForSession(c, task);
  assert.equal(session.Result, 'Success', JSON.stringify(session));
  assert.equal(await sha256File(disk), atBackup, 'the restored disk has the bytes of backup time');
  assert.equal(await sha256File(reference), atBackup);

  assert.match(await cliOk(dataDir, ['repo', 'check', '--read-data'], { env }), /repository is clean/);
});

test('openem repo copy --to s3://… copies a local repository whole; the copy checks clean and a second copy over it is refused', async (t) => {
  const cleanup = cleanupOf(t);
  const s3 = await startS3Server();
  cleanup.defer(() => s3.stop());
  const dataDir = tempDir(cleanup, 'openem-s3-copy-');
  const src = tempDir(cleanup, 'openem-s3-copy-src-');
  writeFileSync(join(src, 'big.bin'), randomBytes(20 * 2 ** 20));
  await cliOk(dataDir, ['vm', 'create', 'copyvm', '--from-dir', src, '--size', '48M']);
  await cliOk(dataDir, ['backup', 'copyvm']);
  await cliOk(dataDir, ['backup', 'copyvm']);
  const local = JSON.parse(await cliOk(dataDir, ['repo', 'check', '--json']));

  const url = `s3://${s3.bucket}/copied-${randomUUID()}`;
  const copied = JSON.parse(await cliOk(dataDir, ['repo', 'copy', '--to', url, '--json'], { env: s3.env }));
  assert.ok(copied.objects >= 4 && copied.bytes > 0, JSON.stringify(copied));

  const remote = JSON.parse(await cliOk(dataDir, ['repo', 'check', '--read-data', '--json'], { env: { ...s3.env, OPENEM_REPOSITORY_URL: url } }));
  assert.equal(remote.ok, true, JSON.stringify(remote.problems));
  assert.equal(remote.manifests, 2);
  assert.equal(remote.manifests, local.manifests);
  assert.equal(remote.packs, local.packs);

  const again = await runCli(dataDir, ['repo', 'copy', '--to', url], { env: s3.env });
  assert.equal(again.code, 1, 'a copy over a repository is refused (CONFLICT: s3-blob-store.test.ts)');
});
