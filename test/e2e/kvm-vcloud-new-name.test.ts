// Issue #13: a KVM platform presented as Cloud Director takes seed 001's v1_4 vCloudVmRestoreSpec: a client
// finds the root, the datastore (the libvirt pool) and the VM through /lookupSvc, restores a point to VmNewName
// (XML and JSON), and gets a new libvirt domain on a new volume holding the point's bytes, powered as asked.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { KvmPlatform } from '../../src/platform/kvm/kvm-platform.js';
import { cliOk } from '../helpers/cli.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';
import { EmClient, findLink, type Format } from '../helpers/em-client.js';
import { startServerProcess } from '../helpers/server-process.js';
import { removeEverything, useSharedLibvirt } from '../platform/kvm/private-libvirt.js';
import { items, lookUp } from './kvm-vcloud-lookup.js';
import { findPointEntity, rootOf, vcloudRestoreBody, waitForSession, waitForTask } from './vm-restore-fixtures.js';

const libvirt = useSharedLibvirt();
const MIB = 1024 * 1024;
test('Cloud Director VmNewName on a KVM VM, in XML and JSON: a new domain on a new volume with the point\'s bytes, powered as asked', async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const dataDir = tempDir(cleanupOf(t), 'openem-kvm-vcd-');
  await writeFile(join(dataDir, 'openem.json'), JSON.stringify({ platforms: [{ id: 'kvm', kind: 'kvm', uri: lv.uri, presentAs: 'vcloud' }] }));
  const platform = await KvmPlatform.open({ uri: lv.uri, presentAs: 'vcloud', shutdownTimeoutMs: 500 });
  const staged = await platform.stageNewVm({
    name: 'kvmvcd', cpus: 1, memoryMiB: 64, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vcloud', hierarchyRootId: '', datastoreId: '',
    disks: [{ name: 'disk0', size: 16 * MIB }],
  });
  const w = await staged.openDiskForWrite('disk0');
  for (let b = 0; b < 4; b++) await w.write(b * 3 * BLOCK_SIZE, Buffer.alloc(BLOCK_SIZE, 0x21 + b));
  await w.close();
  const original = await staged.commit();
  const readAll = async (vmId: string) => {
    const s = await platform.openDisk(vmId, 'disk0');
    try {
      return await s.read(0, 16 * MIB);
    } finally {
      await s.close();
    }
  };
  const bytes = await readAll(original.id);
  await cliOk(dataDir, ['backup', 'kvmvcd']);
  const server = await startServerProcess({ dataDir });
  t.after(() => server.stop());

  for (const format of ['xml', 'json'] as Format[]) {
    const c = new EmClient(server.http, format);
    const { rootUid, datastoreRef } = await lookUp(c, format, server.http, 'kvmvcd');
    const newName = `kvmvcd-${format}`;
    const point = await findPointEntity(c, 'kvmvcd');
    const body = vcloudRestoreBody(format, {
      rootUid, datastoreRef, pointId: point.UID.split(':').pop(), newName, powerOn: format === 'json',
      vAppRef: `urn:vCloud:Vapp:${rootUid.split(':').pop()}.urn:vcloud:vapp:${randomUUID()}`,
    });
    const posted = await c.request('POST', findLink(point, 'Restore')!.Href, { body });
    assert.equal(posted.status, 202, posted.text);
    const session = await waitForSession(c, await waitForTask(c, rootOf(posted.body, format, 'Task').Href));
    assert.equal(session.Result, 'Success', session.FailureMessage);
    const restored = await platform.findVm(newName);
    assert.ok(restored, `${newName} is a libvirt domain`);
    assert.notEqual(restored.id, original.id);
    assert.equal(restored.platform, 'vcloud');
    assert.equal(restored.powerState, format === 'json' ? 'PoweredOn' : 'PoweredOff', 'powered as the body asked');
    if (restored.powerState === 'PoweredOn') await platform.setPowerState(restored.id, 'PoweredOff');
    assert.ok((await readAll(restored.id)).equals(bytes), "the new domain's disk holds the point's bytes");
    const found = await c.get(`${server.http}/api/lookup?host=${rootUid}&name=${newName}&type=vm`);
    assert.equal(items(found.body, format).length, 1, 'the lookup finds the new VM on its root');
  }
  assert.ok((await readAll(original.id)).equals(bytes), 'the original is untouched');
});
