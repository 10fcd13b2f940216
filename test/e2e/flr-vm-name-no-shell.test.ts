import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServerProcess } from '../helpers/server-process.js';
import { EmClient, openemDetails } from '../helpers/em-client.js';
import { backedUpVm, body, mount, pointIdOf } from '../services/mounts/flr-fixture.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';

// fuse-native unmounts with exec(`fusermount -uz "<folder>"`): inside double quotes a shell still runs $(…).
const EVIL_NAME = 'web$(touch $OPENEM_TEST_PWNED)';

test('mounting and unmounting a VM whose name holds $(…) runs nothing: the FLR folder is unmounted with argv only', async (t) => {
  const cleanup = cleanupOf(t);
  const dataDir = tempDir(cleanup, 'openem-flr-name-');
  const pwned = join(dataDir, 'PWNED');
  await backedUpVm(cleanup, dataDir, EVIL_NAME);
  const server = await startServerProcess({ dataDir, env: { OPENEM_TEST_PWNED: pwned } });
  cleanup.defer(() => server.stop());
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const href = await mount(cleanup, c, await pointIdOf(c, EVIL_NAME));
  const folder = (await openemDetails(c, body(c, (await c.get(href)).body, 'VmRestorePointMount'), 'MountDetails')).LocalFolder;
  assert.equal(folder, join(dataDir, 'flr', EVIL_NAME), 'the folder is named exactly after the VM');
  assert.ok(existsSync(join(folder, 'etc', 'hostname')));
  assert.equal((await c.request('DELETE', href)).status, 204);
  assert.ok(!existsSync(pwned), 'no shell ran the $(…) in the VM name');
  assert.ok(!existsSync(folder), 'the folder is unmounted and removed');
});
