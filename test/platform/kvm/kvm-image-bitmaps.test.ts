import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../../src/disks/block-source.js';
import { KvmPlatform } from '../../../src/platform/kvm/kvm-platform.js';
import { removeEverything, useSharedLibvirt } from './private-libvirt.js';

const libvirt = useSharedLibvirt();

function bitmaps(image: string): string[] {
  const info = JSON.parse(execFileSync('qemu-img', ['info', '-U', '-f', 'qcow2', '--output=json', image], { encoding: 'utf8' })) as {
    'format-specific'?: { data?: { bitmaps?: { name: string }[] } };
  };
  return (info['format-specific']?.data?.bitmaps ?? []).map((b) => b.name);
}

test("a powered-off VM's qcow2 disk opened for a read gets no dirty bitmap; each backup leaves two openem bitmaps at most, the one the next backup counts from and the one it counted from", async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const platform = await KvmPlatform.open({ uri: lv.uri });
  const staged = await platform.stageNewVm({
    name: 'bitmaps01', cpus: 1, memoryMiB: 64, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere',
    hierarchyRootId: '', datastoreId: '', disks: [{ name: 'disk0', size: 16 * 1024 * 1024 }],
  });
  const vm = await staged.commit();
  const image = lv.virsh('domblklist', vm.id).split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[0] === 'vda')![1];

  const read = await platform.openDisk(vm.id, 'disk0');
  assert.equal(read.changeTracking?.checkpoint, undefined, 'a plain read stands for no checkpoint');
  await read.close();
  assert.deepEqual(bitmaps(image), [], 'a read leaves no bitmap');

  const first = await platform.openDisk(vm.id, 'disk0', { changeTracking: true });
  const since = first.changeTracking!.checkpoint!;
  await first.close();
  assert.deepEqual(bitmaps(image), [since]);

  const w = await platform.openDiskForWrite(vm.id, 'disk0');
  await w.write(3 * BLOCK_SIZE, Buffer.alloc(BLOCK_SIZE, 0x22));
  await w.close();

  const second = await platform.openDisk(vm.id, 'disk0', { changeTracking: true });
  const next = second.changeTracking!.checkpoint!;
  try {
    assert.deepEqual(await second.changeTracking!.changedBlocksSince(since), [{ offset: 3 * BLOCK_SIZE, length: BLOCK_SIZE }], 'the earlier bitmap still counts while the backup runs');
  } finally {
    await second.close();
  }
  assert.deepEqual(bitmaps(image).sort(), [since, next].sort(), 'the bitmap counted from stays while no later backup has succeeded from the new one');

  const third = await platform.openDisk(vm.id, 'disk0', { changeTracking: true });
  const last = third.changeTracking!.checkpoint!;
  try {
    assert.deepEqual(await third.changeTracking!.changedBlocksSince(next), [], 'nothing was written since');
  } finally {
    await third.close();
  }
  assert.deepEqual(bitmaps(image).sort(), [next, last].sort(), 'two bitmaps at most: the newest and the one it counted from');
});
