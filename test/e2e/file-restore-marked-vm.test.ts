import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startServerProcess } from '../helpers/server-process.js';
import { EmClient } from '../helpers/em-client.js';
import { createBackedUpVm } from '../helpers/vm-fixture.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';

test('a guest file restore into a VM marked restore incomplete is refused with 409 naming the session, and nothing is written', async (t) => {
  const dataDir = tempDir(cleanupOf(t), 'openem-marked-');
  const { image } = await createBackedUpVm(dataDir, 'markvm', { sizeMiB: 32, payloadMiB: 1 });
  // What an in-place VM restore that failed after writing began leaves in the VM's config (issue 9 §6).
  const vmJson = join(dirname(image), 'vm.json');
  const config = JSON.parse(readFileSync(vmJson, 'utf8'));
  const sessionId = '0f1e2d3c-4b5a-4678-9abc-def012345678';
  config.restoreIncomplete = {
    state: 'failed', sessionId, vmRestorePointId: '11111111-2222-4333-8444-555555555555', restorePointTime: '2026-12-01 08:00:00',
    request: { quickRollback: false, powerOnAfterRestore: false }, since: new Date().toISOString(), reason: 'a write failed',
  };
  writeFileSync(vmJson, JSON.stringify(config, null, 2));
  const before = readFileSync(image);

  const server = await startServerProcess({ dataDir });
  cleanupOf(t).defer(() => server.stop());
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const points = await c.get(`${server.http}/api/query?type=VmRestorePoint&format=Entities`);
  const point = points.body.Entities.VmRestorePoints.VmRestorePoints[0];
  const r = await c.request('POST', `${server.http}/api/catalog/vms/markvm/vmRestorePoints/${point.UID.split(':').pop()}/guestfs/etc/hostname?action=restore`);
  assert.equal(r.status, 409, r.text);
  assert.match(r.body.Message, new RegExp(`cannot restore files into it: VM markvm is marked restore incomplete: restore session ${sessionId} .*failed after writing began`));
  assert.ok(readFileSync(image).equals(before), 'the disk is untouched');
  // The refusal gave the VM back: a VM restore, which clears the mark when it succeeds, is accepted.
  const again = await c.request('POST', `${server.http}/api/vmRestorePoints/${point.UID.split(':').pop()}?action=restore`);
  assert.equal(again.status, 202, again.text);
});
