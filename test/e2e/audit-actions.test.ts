import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServerProcess, ADMIN_PASSWORD } from '../helpers/server-process.js';
import { EmClient, findLink, waitFor } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { createBackedUpVm } from '../helpers/vm-fixture.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';

test('the audit trail names every restore, mount, download and unmount, with who and from where, and no secrets', async (t) => {
  const dataDir = tempDir(cleanupOf(t), 'openem-audit-');
  await createBackedUpVm(dataDir, 'auditvm', { sizeMiB: 32, payloadMiB: 1 });
  const server = await startServerProcess({ dataDir });
  try {
    const c = new EmClient(server.http, 'json');
    await c.logOn();
    const points = await c.get(`${server.http}/api/query?type=VmRestorePoint&format=Entities`);
    const point = points.body.Entities.VmRestorePoints.VmRestorePoints[0];
    const mountTask = await c.request('POST', findLink(point, 'Create', 'VmRestorePointMount')!.Href, { body: '{"OsKind":"Linux"}' });
    assert.equal(mountTask.status, 202);
    const done = await waitFor('mount', async () => {
      const t = await c.get(mountTask.body.Href);
      return t.body.State === 'Finished' ? t.body : undefined;
    });
    const mountHref = findLink(done, 'Related', 'VmRestorePointMount')!.Href;
    const file = await c.get(`${mountHref}/etc/hostname?action=download`);
    assert.equal(file.text, 'auditvm\n');
    const restore = await c.request('POST', `${server.http}/api/catalog/vms/auditvm/vmRestorePoints/${point.UID.split(':').pop()}/guestfs/etc/hostname?action=restore`);
    assert.equal(restore.status, 202, restore.text);
    assert.equal((await c.request('DELETE', mountHref)).status, 204);
    // One piece of work per VM: the VM restore waits until the guest file restore has stopped.
    const allStopped = (n: number) => async () => {
      const s = await c.get(`${server.http}/api/restoreSessions?format=Entity`);
      return s.body.RestoreSessions.length === n && s.body.RestoreSessions.every((x: any) => x.State === 'Stopped') ? true : undefined;
    };
    await waitFor('the mount and the file restore to stop', allStopped(2));
    const vmRestore = await c.request('POST', findLink(point, 'Restore')!.Href);
    assert.equal(vmRestore.status, 202, vmRestore.text);
    // The mount's FileLevelRestore session, the catalog restore's and the VM restore's.
    await waitFor('restores finished', allStopped(3));

    const lines = (await cliOk(dataDir, ['audit', '--json'])).trim().split('\n').map((l) => JSON.parse(l));
    // `openem audit --json` prints AuditRecord objects: who did what.
    const actions = lines.filter((l) => l.who === 'admin').map((l) => l.what);
    for (const a of ['logon', 'mount', 'download', 'restore-file', 'unmount', 'restore-vm']) assert.ok(actions.includes(a), `audit has ${a}: ${JSON.stringify(actions)}`);
    const all = JSON.stringify(lines);
    assert.ok(!all.includes(ADMIN_PASSWORD), 'no password in the audit trail');
    assert.ok(!all.includes(c.token!), 'no session token in the audit trail');
    assert.ok(lines.every((l) => typeof l.address === 'string' && l.address.length > 0), 'every entry says where it came from');
  } finally {
    await server.stop();
  }
});
