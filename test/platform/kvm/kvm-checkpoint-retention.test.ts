// Issue #13 fixes: a running VM's openings make a libvirt checkpoint only for a backup, and each backup leaves at
// most two of openem's checkpoints per disk (the newest and the one it counted from); other disks' stay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../../src/disks/block-source.js';
import { KvmPlatform } from '../../../src/platform/kvm/kvm-platform.js';
import { removeEverything, useSharedLibvirt } from './private-libvirt.js';

const libvirt = useSharedLibvirt();
const MIB = 1024 * 1024;

test("a running VM's reads leave no checkpoint, and its backups keep at most two of openem's checkpoints per disk", async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const platform = await KvmPlatform.open({ uri: lv.uri, shutdownTimeoutMs: 500 });
  const staged = await platform.stageNewVm({
    name: 'prune01', cpus: 1, memoryMiB: 64, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere',
    hierarchyRootId: '', datastoreId: '', disks: [{ name: 'disk0', size: 16 * MIB }, { name: 'disk1', size: 16 * MIB }],
  });
  const w = await staged.openDiskForWrite('disk0');
  await w.write(0, Buffer.alloc(BLOCK_SIZE, 0x11));
  await w.close();
  const vm = await staged.commit();
  await platform.setPowerState(vm.id, 'PoweredOn');
  const checkpoints = () => lv.virsh('checkpoint-list', vm.id, '--name').split('\n').map((l) => l.trim()).filter(Boolean).sort();

  const read = await platform.openDisk(vm.id, 'disk0');
  try {
    assert.equal(read.changeTracking?.checkpoint, undefined, 'a read stands for no checkpoint');
    assert.ok((await read.read(0, BLOCK_SIZE)).equals(Buffer.alloc(BLOCK_SIZE, 0x11)));
  } finally {
    await read.close();
  }
  assert.deepEqual(checkpoints(), [], 'a read leaves no checkpoint');

  // A backup of disk1, whose checkpoint the backups of disk0 must leave alone.
  const other = await platform.openDisk(vm.id, 'disk1', { changeTracking: true });
  await other.allocatedExtents();
  const otherCheckpoint = other.changeTracking!.checkpoint!;
  await other.close();

  const backup = async (since?: string): Promise<string> => {
    const source = await platform.openDisk(vm.id, 'disk0', { changeTracking: true });
    try {
      if (since) assert.ok(Array.isArray(await source.changeTracking!.changedBlocksSince(since)), `checkpoint ${since} still counts`);
      else await source.allocatedExtents();
      return source.changeTracking!.checkpoint!;
    } finally {
      await source.close();
    }
  };
  const first = await backup();
  assert.deepEqual(checkpoints(), [first, otherCheckpoint].sort());
  const second = await backup(first);
  assert.deepEqual(checkpoints(), [first, second, otherCheckpoint].sort(), 'the one counted from stays until a backup counts from the new one');
  const third = await backup(second);
  assert.deepEqual(checkpoints(), [second, third, otherCheckpoint].sort(), 'the oldest went');
  // A backup that failed before its manifest: the next one still counts from the newest point's checkpoint.
  const failed = await backup(third);
  const fifth = await backup(third);
  assert.deepEqual(checkpoints(), [third, fifth, otherCheckpoint].sort(), `the failed backup's checkpoint ${failed} went, the point's stayed`);

  lv.virsh('qemu-monitor-command', vm.id, '--hmp', 'qemu-io -d /machine/peripheral/ua-disk0/virtio-backend "write -P 0xab 5M 64k"');
  const source = await platform.openDisk(vm.id, 'disk0');
  try {
    const changed = await source.changeTracking!.changedBlocksSince(third);
    assert.ok(Array.isArray(changed) && changed.some((e) => e.offset <= 5 * MIB && e.offset + e.length >= 5 * MIB + 64 * 1024), 'deleted checkpoints merged into the kept ones: the write is reported');
  } finally {
    await source.close();
  }
  assert.deepEqual(checkpoints(), [third, fifth, otherCheckpoint].sort(), 'a read drops nothing either');
});
