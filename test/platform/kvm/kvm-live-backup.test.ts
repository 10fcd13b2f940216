import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCK_SIZE, type ChainBreak, type Extent } from '../../../src/disks/block-source.js';
import { KvmPlatform } from '../../../src/platform/kvm/kvm-platform.js';
import { removeEverything, useSharedLibvirt } from './private-libvirt.js';

const libvirt = useSharedLibvirt();
const MIB = 1024 * 1024;
const DISK = 32 * MIB;

function covers(extents: Extent[] | ChainBreak, offset: number, length: number): boolean {
  return Array.isArray(extents) && extents.some((e) => e.offset <= offset && e.offset + e.length >= offset + length);
}

test('a running VM is read live through a pull-mode backup, crash-consistent when no guest agent answers; the next one reads only what the guest wrote since, and a lost checkpoint means a full read', async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const platform = await KvmPlatform.open({ uri: lv.uri, shutdownTimeoutMs: 500 });
  const staged = await platform.stageNewVm({
    name: 'live01', cpus: 1, memoryMiB: 64, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere',
    hierarchyRootId: '', datastoreId: '', disks: [{ name: 'disk0', size: DISK }],
  });
  const w = await staged.openDiskForWrite('disk0');
  await w.write(2 * BLOCK_SIZE, Buffer.alloc(BLOCK_SIZE, 0x11));
  await w.close();
  const vm = await staged.commit();
  // openem's domains have a guest agent channel; with no agent behind it (the guest runs no OS) libvirt reports it disconnected.
  assert.match(lv.virsh('dumpxml', '--inactive', vm.id), /<target type='virtio' name='org\.qemu\.guest_agent\.0'\/>/);
  await platform.setPowerState(vm.id, 'PoweredOn');

  const first = await platform.openDisk(vm.id, 'disk0', { changeTracking: true });
  let checkpoint: string;
  try {
    assert.equal(first.size, DISK);
    checkpoint = first.changeTracking!.checkpoint!;
    assert.match((await first.changeTracking!.changedBlocksSince('openem-never-made') as ChainBreak).broken, /no checkpoint openem-never-made/, 'an unknown checkpoint is a broken chain');
    assert.deepEqual(first.consistency, { kind: 'crash-consistent', reason: 'the QEMU guest agent is not connected (channel disconnected): it does not run in the guest' }, 'the guest runs no agent');
    const extents = await first.allocatedExtents();
    assert.ok(covers(extents, 2 * BLOCK_SIZE, BLOCK_SIZE));
    assert.ok(extents.reduce((n, e) => n + e.length, 0) <= 2 * BLOCK_SIZE, 'holes are left out');
    assert.ok((await first.read(2 * BLOCK_SIZE, BLOCK_SIZE)).equals(Buffer.alloc(BLOCK_SIZE, 0x11)));
  } finally {
    await first.close();
  }
  assert.ok(lv.virsh('checkpoint-list', vm.id, '--name').includes(checkpoint), 'the backup left its checkpoint behind');

  // The guest writes 64 KiB at 5 MiB (QEMU's own I/O on the guest's disk device, as a guest write would be).
  lv.virsh('qemu-monitor-command', vm.id, '--hmp', 'qemu-io -d /machine/peripheral/ua-disk0/virtio-backend "write -P 0xab 5M 64k"');

  const second = await platform.openDisk(vm.id, 'disk0', { changeTracking: true });
  try {
    const changed = await second.changeTracking!.changedBlocksSince(checkpoint);
    assert.ok(covers(changed, 5 * MIB, 64 * 1024), 'the write is reported');
    assert.ok((changed as Extent[]).reduce((n, e) => n + e.length, 0) <= BLOCK_SIZE, `only the write is reported (${JSON.stringify(changed)})`);
    assert.ok((await second.read(5 * MIB, 64 * 1024)).equals(Buffer.alloc(64 * 1024, 0xab)), 'the export shows the write');
  } finally {
    await second.close();
  }

  lv.virsh('checkpoint-delete', vm.id, checkpoint);
  const third = await platform.openDisk(vm.id, 'disk0', { changeTracking: true });
  try {
    assert.ok('broken' in (await third.changeTracking!.changedBlocksSince(checkpoint)), 'a deleted checkpoint is a broken chain');
    assert.ok((await third.read(2 * BLOCK_SIZE, BLOCK_SIZE)).equals(Buffer.alloc(BLOCK_SIZE, 0x11)), 'and the disk is read whole');
  } finally {
    await third.close();
  }
  assert.equal(lv.virsh('domjobinfo', vm.id).includes('Backup'), false, 'no backup job is left running');
});
