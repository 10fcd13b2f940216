import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, openemDetails, waitFor } from '../helpers/em-client.js';
import { createBackedUpVm } from '../helpers/vm-fixture.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';

test('a mount has a FileLevelRestore session: Working while mounted, logging downloads, Stopped/Success after unmount', async (t) => {
  const dataDir = tempDir(cleanupOf(t), 'openem-flr-session-');
  await createBackedUpVm(dataDir, 'flrvm', { sizeMiB: 32, payloadMiB: 1 });
  const server = await startServerProcess({ dataDir });
  try {
    const c = new EmClient(server.http, 'json');
    await c.logOn();
    const point = (await c.get(`${server.http}/api/query?type=VmRestorePoint&format=Entities`)).body.Entities.VmRestorePoints.VmRestorePoints[0];
    const t = await c.request('POST', findLink(point, 'Create', 'VmRestorePointMount')!.Href);
    const task = await waitFor('mount task', async () => {
      const x = (await c.get(t.body.Href)).body;
      return x.State === 'Finished' ? x : undefined;
    });
    const mount = (await c.get(findLink(task, 'Related', 'VmRestorePointMount')!.Href)).body;
    const sessionHref = findLink(mount, 'Related', 'RestoreSession')!.Href;
    const working = (await c.get(sessionHref)).body;
    assert.equal(working.JobType, 'FileLevelRestore');
    assert.equal(working.State, 'Working');
    assert.match(working.Name, /^FLR_\[flrvm\]@/);
    assert.equal((await c.get(`${mount.Href}/etc/hostname?action=download`)).text, 'flrvm\n');
    assert.equal((await c.request('DELETE', mount.Href)).status, 204);
    const stopped = (await c.get(sessionHref)).body;
    assert.equal(stopped.State, 'Stopped');
    assert.equal(stopped.Result, 'Success');
    assert.equal(stopped.Log, undefined, 'EM\'s RestoreSession has no Log');
    const log = ((await openemDetails(c, stopped, 'RestoreSessionLog')).Log as { Text: string }[]).map((l) => l.Text).join('\n');
    assert.match(log, /Mounted restore point/);
    assert.match(log, /Downloaded \/etc\/hostname/);
    assert.match(log, /unmounted/);
  } finally {
    await server.stop();
  }
});
