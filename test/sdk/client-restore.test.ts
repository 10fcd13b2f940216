import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServerProcess, ADMIN_PASSWORD } from '../helpers/server-process.js';
import { runCli } from '../helpers/cli.js';
import { createBackedUpVm, damageDisk } from '../helpers/vm-fixture.js';
import { EmClient, EmApiError } from '../../src/sdk/em-client.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';

test('the SDK and `openem client restore-vm` restore a VM over HTTPS, with progress, byte for byte', async (t) => {
  const dataDir = tempDir(cleanupOf(t), 'openem-sdk-');
  const { image, atBackup } = await createBackedUpVm(dataDir, 'sdkvm', { sizeMiB: 48, payloadMiB: 6 });
  damageDisk(image, 3);
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
