// openem asks libvirt over its RPC socket (libvirt.ts, libvirt-rpc.ts) instead of starting virsh per call: the
// answers must be virsh's, an unknown domain is NOT_FOUND, a checkpoint and a domain definition made through it
// are libvirt's, a daemon that went away is UNAVAILABLE and one that is back is reached again; a URI with a host
// or a transport goes through virsh.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Libvirt, localSocketOf } from '../../../src/platform/kvm/libvirt.js';
import { startPrivateLibvirtd } from '../../../src/platform/kvm/private-libvirtd.js';
import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);

test("libvirt's answers over its RPC socket are virsh's; unknown domains are NOT_FOUND; a stopped daemon is UNAVAILABLE, a restarted one is reached again", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'openem-rpc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o711); // the daemon runs as nobody and passes through
  let lv = await startPrivateLibvirtd({ dir: join(dir, 'libvirt') });
  t.after(() => lv.stop());
  const libvirt = await Libvirt.open(lv.uri);
  t.after(() => libvirt.close());
  assert.equal(libvirt.overRpc, true, 'a URI naming a socket is reached over it');

  const uuid = '6f1c1f0e-8d2a-4c4b-9e37-0a1b2c3d4e5f';
  const name = `rpc01 'quoted' & <angled>`;
  const xml = `<domain type='qemu'><name>${name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</name><uuid>${uuid}</uuid><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${lv.poolDir}/rpc01.qcow2'/><target dev='vda' bus='virtio'/></disk></devices></domain>`;
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(lv.poolDir, 'rpc01.qcow2'), '16M']);
  await chown(join(lv.poolDir, 'rpc01.qcow2'), 65534, 65534);
  await libvirt.define(xml);
  assert.equal(lines(lv.virsh('domname', uuid))[0], name, 'the name went to libvirt as data');

  assert.equal(await libvirt.domainXml(uuid), lv.virsh('dumpxml', uuid));
  assert.equal(await libvirt.domainXml(uuid, { inactive: true, secure: true }), lv.virsh('dumpxml', '--inactive', '--security-info', uuid));
  assert.deepEqual(await libvirt.domains(), [{ uuid, running: false }]);
  assert.deepEqual(await libvirt.activePoolXmls(), lines(lv.virsh('pool-list', '--uuid')).map((p) => lv.virsh('pool-dumpxml', p)));
  assert.equal(await libvirt.isActive(uuid), false);

  await libvirt.start(uuid);
  assert.equal(await libvirt.isActive(uuid), true);
  assert.deepEqual(await libvirt.domains(), [{ uuid, running: true }]);
  const checkpoint = `<domaincheckpoint><name>openem-1-0000abcd</name><disks><disk name='vda' checkpoint='bitmap'/></disks></domaincheckpoint>`;
  lv.virsh('checkpoint-create-as', uuid, '--name', 'by-virsh', '--diskspec', 'vda,checkpoint=bitmap');
  const backup = `<domainbackup mode='pull'><server transport='unix' socket='${lv.runDir}/ch/rpc.sock'/><disks><disk name='vda' backup='yes' type='file'><scratch file='${lv.runDir}/ch/scratch.qcow2'/></disk></disks></domainbackup>`;
  await libvirt.backupBegin(uuid, backup, checkpoint);
  assert.match(lv.virsh('domjobinfo', uuid), /Backup/, 'the backup job runs');
  await libvirt.abortJob(uuid);
  assert.deepEqual(await libvirt.checkpointNames(uuid), lines(lv.virsh('checkpoint-list', uuid, '--name')).sort());
  assert.deepEqual(await libvirt.checkpointNames(uuid), ['by-virsh', 'openem-1-0000abcd']);
  assert.equal(await libvirt.checkpointXml(uuid, 'openem-1-0000abcd'), lv.virsh('checkpoint-dumpxml', uuid, 'openem-1-0000abcd'));
  await libvirt.deleteCheckpoint(uuid, 'by-virsh');
  assert.deepEqual(lines(lv.virsh('checkpoint-list', uuid, '--name')), ['openem-1-0000abcd']);
  await libvirt.destroy(uuid);
  assert.equal(lines(lv.virsh('domstate', uuid))[0], 'shut off');

  const unknown = '00000000-0000-4000-8000-000000000000';
  for (const call of [() => libvirt.domainXml(unknown), () => libvirt.checkpointNames(unknown), () => libvirt.isActive(unknown)]) {
    await assert.rejects(call(), (e: Error & { code?: string }) => e.code === 'NOT_FOUND');
  }
  await assert.rejects(libvirt.deleteCheckpoint(uuid, 'never-made'), /never-made|checkpoint/i, "libvirt's own message");

  await lv.stop();
  await assert.rejects(libvirt.domains(), (e: Error & { code?: string }) => e.code === 'UNAVAILABLE' && /unreachable/.test(e.message));
  lv = await startPrivateLibvirtd({ dir: join(dir, 'libvirt') });
  assert.deepEqual(await libvirt.domains(), [{ uuid, running: false }], 'the next call connects again');
  lv.virsh('undefine', uuid, '--checkpoints-metadata');
});

test('only a local URI is reached over a socket: one with a host or a transport goes through virsh', async () => {
  assert.deepEqual(await localSocketOf('qemu:///session?socket=/run/x/libvirt-sock'), { socket: '/run/x/libvirt-sock', name: 'qemu:///session' });
  for (const uri of ['qemu+ssh://root@host/system', 'qemu://host/system', 'qemu+tcp:///system', 'test:///default', 'not a uri']) {
    assert.equal(await localSocketOf(uri), undefined, uri);
    assert.equal((await Libvirt.open(uri)).overRpc, false, uri);
  }
});
