import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess, ADMIN_PASSWORD } from '../helpers/server-process.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { EmClient, EmApiError } from '../../src/sdk/em-client.js';

test('the SDK and `openem client restore-vm` restore a VM over HTTPS, with progress, byte for byte', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'openem-sdk-'));
  const src = mkdtempSync(join(tmpdir(), 'openem-sdk-src-'));
  mkdirSync(join(src, 'etc'));
  writeFileSync(join(src, 'etc', 'hostname'), 'sdkvm\n');
  writeFileSync(join(src, 'payload.bin'), randomBytes(6 * 2 ** 20));
  await cliOk(dataDir, ['vm', 'create', 'sdkvm', '--from-dir', src, '--size', '48M']);
  await cliOk(dataDir, ['backup', 'sdkvm']);
  const image = JSON.parse(await cliOk(dataDir, ['vm', 'show', 'sdkvm', '--json'])).disks[0].path as string;
  const atBackup = readFileSync(image);
  const fd = openSync(image, 'r+');
  writeSync(fd, randomBytes(2 ** 20), 0, 2 ** 20, 3 * 2 ** 20);
  closeSync(fd);
  assert.ok(!readFileSync(image).equals(atBackup));

  const server = await startServerProcess({ dataDir });
  try {
    const em = new EmClient({ server: server.https, insecure: true });
    await assert.rejects(em.logOn('admin', 'wrong'), (e: unknown) => e instanceof EmApiError && e.status === 401);
    const session = await em.logOn('admin', ADMIN_PASSWORD);
    const points = await em.vmRestorePoints('sdkvm');
    assert.equal(points.length, 1);
    await em.logOff(session);

    const out = await runCli(dataDir, ['client', 'restore-vm', 'sdkvm', '--server', server.https, '--user', 'admin', '--password-stdin', '--insecure', '--quick-rollback'], { input: ADMIN_PASSWORD + '\n' });
    assert.equal(out.code, 0, out.stderr + out.stdout);
    assert.match(out.stdout, /sdkvm@.*: Success/);
    assert.match(out.stderr, /restore sdkvm: 100%/);
    assert.ok(readFileSync(image).equals(atBackup), 'QuickRollback put the disk back byte for byte');
  } finally {
    await server.stop();
  }
});
