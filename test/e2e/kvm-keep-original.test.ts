// Issue #13 step 4: KeepOriginalVM on KVM through the EM API (seed 001): a new domain with new volumes in the
// pool, built out of sight and defined only when every disk is written; a restore that fails leaves no domain and
// no volume behind, and the original VM is never touched.
import assert from 'node:assert/strict';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { KvmPlatform } from '../../src/platform/kvm/kvm-platform.js';
import { cliOk } from '../helpers/cli.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';
import { EmClient, findLink } from '../helpers/em-client.js';
import { startServerProcess } from '../helpers/server-process.js';
import { removeEverything, useSharedLibvirt } from '../platform/kvm/private-libvirt.js';
import { findPointEntity, logLines, rootOf, waitForSession, waitForTask } from './vm-restore-fixtures.js';

const libvirt = useSharedLibvirt();
const MIB = 1024 * 1024;

/** Seed 001's vSphere/Hyper-V example body. */
const KEEP_XML = `<?xml version="1.0" encoding="utf-8"?>
<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <VmRestoreSpec>
   <PowerOnAfterRestore>false</PowerOnAfterRestore>
   <QuickRollback>false</QuickRollback>
   <KeepOriginalVM>true</KeepOriginalVM>
 </VmRestoreSpec>
</RestoreSpec>`;
const KEEP_JSON = JSON.stringify({ VmRestoreSpec: { PowerOnAfterRestore: false, QuickRollback: false, KeepOriginalVM: true } });

async function packFiles(repo: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of await readdir(join(repo, 'packs')).catch((): string[] => [])) {
    for (const name of await readdir(join(repo, 'packs', sub))) out.push(join(repo, 'packs', sub, name));
  }
  return out.sort();
}

async function restore(c: EmClient, vmName: string, body: string): Promise<any> {
  const point = await findPointEntity(c, vmName);
  const posted = await c.request('POST', findLink(point, 'Restore')!.Href, { body });
  assert.equal(posted.status, 202, posted.text);
  return waitForSession(c, await waitForTask(c, rootOf(posted.body, c.format, 'Task').Href));
}

test('KeepOriginalVM on a KVM VM, in XML and JSON: a new domain on new volumes appears only complete; a failed one leaves nothing', async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const dataDir = tempDir(cleanupOf(t), 'openem-kvm-keep-');
  await writeFile(join(dataDir, 'openem.json'), JSON.stringify({ platforms: [{ id: 'kvm', kind: 'kvm', uri: lv.uri }] }));
  const platform = await KvmPlatform.open({ uri: lv.uri });
  const make = async (name: string, fill: number) => {
    const staged = await platform.stageNewVm({
      name, cpus: 2, memoryMiB: 96, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere', hierarchyRootId: '', datastoreId: '',
      disks: [{ name: 'disk0', size: 16 * MIB }],
    });
    const w = await staged.openDiskForWrite('disk0');
    for (let b = 0; b < 4; b++) await w.write(b * 3 * BLOCK_SIZE, Buffer.alloc(BLOCK_SIZE, fill + b));
    await w.close();
    return staged.commit();
  };
  const readAll = async (vmId: string) => {
    const s = await platform.openDisk(vmId, 'disk0');
    try {
      return await s.read(0, 16 * MIB);
    } finally {
      await s.close();
    }
  };
  const keep = await make('kvmkeep', 0x10);
  const fail = await make('kvmfail', 0x40);
  const keepBytes = await readAll(keep.id);
  const repo = join(dataDir, 'repository');
  await cliOk(dataDir, ['backup', 'kvmkeep']);
  const keepPacks = await packFiles(repo);
  await cliOk(dataDir, ['backup', 'kvmfail']);
  const failPacks = (await packFiles(repo)).filter((p) => !keepPacks.includes(p));
  assert.ok(failPacks.length > 0, "kvmfail's blocks are in packs of their own");
  const volumes = () => lv.virsh('vol-list', '--pool', 'openem').split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean).sort();
  const before = volumes();

  const server = await startServerProcess({ dataDir });
  t.after(() => server.stop());

  // Seed 001's XML body: kvmkeep_restored, a new domain with a new volume holding the point's bytes.
  const xml = new EmClient(server.http, 'xml');
  const done = await restore(xml, 'kvmkeep', KEEP_XML);
  assert.equal(done.Result, 'Success', done.FailureMessage);
  const restored = await platform.findVm('kvmkeep_restored');
  assert.ok(restored, 'the new VM is a libvirt domain');
  assert.notEqual(restored.id, keep.id);
  assert.deepEqual({ cpus: restored.cpus, memoryMiB: restored.memoryMiB, powerState: restored.powerState }, { cpus: 2, memoryMiB: 96, powerState: 'PoweredOff' });
  const added = volumes().filter((v) => !before.includes(v));
  assert.equal(added.length, 1, `one new volume in the pool (${added.join(', ')})`);
  assert.ok(added[0].startsWith(restored.id), 'named for the new domain');
  assert.ok((await readAll(restored.id)).equals(keepBytes), "the new VM's disk holds the point's bytes");
  assert.ok((await readAll(keep.id)).equals(keepBytes), 'the original is untouched');

  // In JSON, with kvmfail's packs gone: the restore fails part way and leaves neither a domain nor a volume.
  for (const p of failPacks) await rm(p);
  const json = new EmClient(server.http, 'json');
  const failed = await restore(json, 'kvmfail', KEEP_JSON);
  assert.equal(failed.Result, 'Failed');
  assert.match(failed.FailureMessage, /pack/i, 'it failed reading a pack');
  assert.ok((await logLines(json, failed)).includes('Building VM kvmfail_restored out of sight'), 'it failed after its volume was made');
  assert.equal(await platform.findVm('kvmfail_restored'), undefined, 'no domain of the new name');
  assert.deepEqual(volumes(), [...before, ...added].sort(), 'no volume left behind');
  assert.ok(await platform.findVm(fail.id), 'the original stays');
});
