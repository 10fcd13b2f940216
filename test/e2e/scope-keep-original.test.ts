import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, waitFor } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { createBackedUpVm } from '../helpers/vm-fixture.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';

const KEEP = '<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><VmRestoreSpec><PowerOnAfterRestore>false</PowerOnAfterRestore><QuickRollback>false</QuickRollback><KeepOriginalVM>true</KeepOriginalVM></VmRestoreSpec></RestoreSpec>';

test('a Portal User scoped to one VM may keep the original and restore beside it on its datastore, but not restore another VM', async (t) => {
  const dataDir = tempDir(cleanupOf(t), 'openem-scope-keep-');
  const { atBackup } = await createBackedUpVm(dataDir, 'mine', { sizeMiB: 32, payloadMiB: 2 });
  await createBackedUpVm(dataDir, 'theirs', { sizeMiB: 32, payloadMiB: 1 });
  await cliOk(dataDir, ['user', 'add', 'pu', '--password-stdin', '--role', 'portal-user', '--scope', 'vm:mine'], { input: 'Pu-pass-1\n' });
  const server = await startServerProcess({ dataDir });
  try {
    const c = new EmClient(server.http, 'xml');
    assert.equal((await c.logOn('pu', 'Pu-pass-1')).status, 201);
    const refs = (await c.get(`${server.http}/api/vmRestorePoints`)).body.EntityReferences.Ref;
    assert.equal(refs.length, 1, 'only the VM in scope is listed');
    const entity = (await c.get(findLink(refs[0], 'Alternate')!.Href)).body.VmRestorePoint;
    const r = await c.request('POST', findLink(entity, 'Restore')!.Href, { body: KEEP });
    assert.equal(r.status, 202, r.text);
    const task = await waitFor('task', async () => {
      const t = (await c.get(r.body.Task.Href)).body.Task;
      return t.State === 'Finished' ? t : undefined;
    });
    const s = await waitFor('session', async () => {
      const x = (await c.get(findLink(task, 'Related')!.Href)).body.RestoreSession;
      return x.State === 'Stopped' ? x : undefined;
    });
    assert.equal(s.Result, 'Success', JSON.stringify(s));
    const restored = JSON.parse(await cliOk(dataDir, ['vm', 'show', 'mine_restored', '--json']));
    assert.ok(readFileSync(restored.disks[0].path).equals(atBackup));

    const admin = new EmClient(server.http, 'xml');
    await admin.logOn();
    const all = (await admin.get(`${server.http}/api/query?type=VmRestorePoint&filter=VmDisplayName==theirs`)).body.QueryResult.Refs.Ref;
    const theirs = all[0].Href as string;
    const refused = await c.request('POST', `${theirs}?action=restore`, { body: KEEP });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.Error.Status, 'Forbidden');
  } finally {
    await server.stop();
  }
});
