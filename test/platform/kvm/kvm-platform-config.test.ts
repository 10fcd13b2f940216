import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chown, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config.js';
import { openPlatforms } from '../../../src/platform/open-platforms.js';
import { tempDir } from '../local-fixtures.js';
import { removeEverything, useSharedLibvirt } from './private-libvirt.js';

const libvirt = useSharedLibvirt();

test('OPENEM_LIBVIRT_URI and --libvirt-uri name the libvirt host; given alone, they add a kvm platform beside the local one', async () => {
  const dataDir = await tempDir('openem-data-');
  assert.equal(loadConfig({ env: { OPENEM_LIBVIRT_URI: 'qemu:///system' }, flags: { dataDir } }).libvirtUri, 'qemu:///system');
  assert.equal(loadConfig({ env: { OPENEM_LIBVIRT_URI: 'qemu:///system' }, flags: { dataDir, libvirtUri: 'qemu+ssh://h/system' } }).libvirtUri, 'qemu+ssh://h/system');
  const { uri } = await libvirt();
  const registry = await openPlatforms({ ...loadConfig({ env: { OPENEM_LIBVIRT_URI: uri }, flags: { dataDir } }) });
  assert.deepEqual(registry.platforms.map((p) => [p.id, p.kind]), [['local', 'local'], ['kvm', 'kvm']]);
  const kvmRoots = await registry.get('kvm')!.hierarchyRoots();
  assert.deepEqual(kvmRoots.map((r) => [r.hostType, r.platform]), [['VC', 'vsphere']], 'vSphere unless configured otherwise');
  const pools = await registry.get('kvm')!.datastores();
  assert.deepEqual(pools.map((p) => [p.name, p.hierarchyRootId]), [['openem', kvmRoots[0].id]], 'storage pools are datastores on the host');
});

test('a kvm platform in the config file takes its URI, presentation and pool; without a URI, or presenting as something else, it is refused', async () => {
  const dataDir = await tempDir('openem-data-');
  const { uri } = await libvirt();
  await writeFile(join(dataDir, 'openem.json'), JSON.stringify({ platforms: [{ id: 'lab', kind: 'kvm', uri, presentAs: 'vcloud', pool: 'openem' }] }));
  const registry = await openPlatforms(loadConfig({ env: {}, flags: { dataDir } }));
  assert.deepEqual(registry.platforms.map((p) => [p.id, p.kind]), [['lab', 'kvm']]);
  assert.deepEqual((await registry.hierarchyRoots()).map((r) => [r.hostType, r.platform]), [['VcdSystem', 'vcloud']]);
  await assert.rejects(openPlatforms({ dataDir, platforms: [{ id: 'k', kind: 'kvm' }] }), { code: 'BAD_CONFIG', message: /needs a libvirt URI/ });
  await assert.rejects(openPlatforms({ dataDir, platforms: [{ id: 'k', kind: 'kvm', uri, presentAs: 'xen' }] }), { code: 'BAD_CONFIG', message: /presentAs 'xen'/ });
});

test('a domain openem did not make is a VM: its disks are named by target device, its power follows libvirt', async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const image = join(lv.poolDir, 'plain.qcow2');
  lv.virsh('vol-create-as', 'openem', 'plain.qcow2', '8M', '--format', 'qcow2');
  const xml = join(lv.dir, 'plain.xml');
  await writeFile(xml, `<domain type='qemu'><name>plain vm</name><memory unit='MiB'>32</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${image}'/><target dev='vdb' bus='virtio'/></disk></devices></domain>`);
  lv.virsh('define', xml);
  const registry = await openPlatforms({ dataDir: lv.dir, platforms: [{ id: 'kvm', kind: 'kvm', uri: lv.uri, presentAs: 'hyperv' }] });
  const vm = await registry.findVm('plain vm');
  assert.ok(vm);
  assert.equal(vm.platform, 'hyperv');
  assert.equal(vm.powerState, 'PoweredOff');
  assert.equal(vm.memoryMiB, 32);
  assert.deepEqual(vm.disks, [{ name: 'vdb', size: 8 * 1024 * 1024 }]);
  assert.equal(vm.datastoreId, (await registry.datastores())[0].id);
  await registry.setPowerState(vm.id, 'PoweredOn');
  assert.equal(lv.virsh('domstate', vm.id).trim(), 'running');
  await assert.rejects(registry.openDiskForWrite(vm.id, 'vdb'), { code: 'CONFLICT' }, 'a running VM is not written under its guest');
});

test("a raw disk whose first bytes are a qcow2 header is read as raw, as its domain's driver says: its size is the file's, not the header's", async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const image = join(lv.poolDir, 'guest.raw');
  // What a guest could write at sector 0 of its raw disk: a qcow2 header claiming 1 GiB.
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1G']);
  await truncate(image, 8 * 1024 * 1024);
  await chown(image, 65534, 65534);
  const xml = join(lv.dir, 'raw.xml');
  await writeFile(xml, `<domain type='qemu'><name>raw vm</name><memory unit='MiB'>32</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${image}'/><target dev='vda' bus='virtio'/></disk></devices></domain>`);
  lv.virsh('define', xml);
  const registry = await openPlatforms({ dataDir: lv.dir, platforms: [{ id: 'kvm', kind: 'kvm', uri: lv.uri }] });
  const vm = await registry.findVm('raw vm');
  assert.deepEqual(vm?.disks, [{ name: 'vda', size: 8 * 1024 * 1024 }]);
  const source = await registry.openDisk(vm.id, 'vda');
  try {
    assert.equal(source.size, 8 * 1024 * 1024);
    assert.equal((await source.read(0, 4)).toString('latin1'), 'QFI\xfb', 'the header is read as the raw bytes it is');
  } finally {
    await source.close();
  }
});
