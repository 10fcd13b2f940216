// Issue #13: a CBT increment of a running VM asks libvirt as little as it can. Each domain is looked up once per
// connection (every call names it by UUID), and the increment's extents are exactly the guest's writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCK_SIZE, type Extent } from '../../../src/disks/block-source.js';
import { KvmPlatform } from '../../../src/platform/kvm/kvm-platform.js';
import { LibvirtRpc } from '../../../src/platform/kvm/libvirt-rpc.js';
import { removeEverything, useSharedLibvirt } from './private-libvirt.js';

const libvirt = useSharedLibvirt();
const MIB = 1024 * 1024;
/** remote_protocol.x procedure numbers, to name the calls counted. */
const NAMES: Record<number, string> = { 14: 'domain xml', 24: 'lookup', 164: 'abort job', 412: 'checkpoint xml', 413: 'list checkpoints', 417: 'delete checkpoint', 421: 'backup begin' };

test('a CBT increment of a running VM reads exactly the extents the guest wrote and makes at most 6 libvirt calls, none a domain lookup', async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const platform = await KvmPlatform.open({ uri: lv.uri, shutdownTimeoutMs: 500 });
  const staged = await platform.stageNewVm({
    name: 'calls01', cpus: 1, memoryMiB: 64, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere',
    hierarchyRootId: '', datastoreId: '', disks: [{ name: 'disk0', size: 32 * MIB }],
  });
  const vm = await staged.commit();
  await platform.setPowerState(vm.id, 'PoweredOn');

  const calls: number[] = [];
  const call = LibvirtRpc.prototype.call;
  LibvirtRpc.prototype.call = function (this: LibvirtRpc, proc, args, options) {
    calls.push(proc);
    return call.call(this, proc, args, options);
  };
  t.after(() => (LibvirtRpc.prototype.call = call));

  /** One backup's opening: the changes since `since` (or the allocated extents), each read whole, then closed. */
  const backUp = async (since: string | undefined): Promise<{ checkpoint: string; extents: Extent[]; bytes: number }> => {
    const source = await platform.openDisk(vm.id, 'disk0', { changeTracking: true });
    try {
      const changed = since === undefined ? await source.allocatedExtents() : await source.changeTracking!.changedBlocksSince(since);
      assert.ok(Array.isArray(changed), `the chain holds (${JSON.stringify(changed)})`);
      let bytes = 0;
      for (const e of changed) bytes += (await source.read(e.offset, e.length)).length;
      return { checkpoint: source.changeTracking!.checkpoint!, extents: changed, bytes };
    } finally {
      await source.close();
    }
  };
  const guestWrites = (offsets: number[], pattern: number) => {
    for (const at of offsets) lv.virsh('qemu-monitor-command', vm.id, '--hmp', `qemu-io -d /machine/peripheral/ua-disk0/virtio-backend "write -P ${pattern} ${at} 1M"`);
  };

  let previous = (await backUp(undefined)).checkpoint;
  // Two increments: the second is the steady state, where the backup before the previous one's checkpoint goes.
  for (const [i, offsets] of [[3 * MIB, 9 * MIB, 20 * MIB], [5 * MIB, 6 * MIB, 30 * MIB]].entries()) {
    guestWrites(offsets, 0x21 + i);
    calls.length = 0;
    const inc = await backUp(previous);
    const expected = offsets.reduce<Extent[]>((out, at) => {
      const last = out[out.length - 1];
      if (last && last.offset + last.length === at) last.length += BLOCK_SIZE;
      else out.push({ offset: at, length: BLOCK_SIZE });
      return out;
    }, []);
    assert.deepEqual(inc.extents, expected, 'the dirty extents are the guest\'s writes, adjacent ones as one');
    assert.equal(inc.bytes, offsets.length * BLOCK_SIZE, 'and only they are read');
    const named = calls.map((p) => NAMES[p] ?? String(p));
    assert.ok(!named.includes('lookup'), `no domain is looked up again (${named.join(', ')})`);
    assert.ok(calls.length <= 6, `at most 6 libvirt calls (${named.join(', ')})`);
    previous = inc.checkpoint;
  }
  assert.equal(lv.virsh('checkpoint-list', vm.id, '--name').split('\n').filter((l) => l.trim()).length, 2, 'two checkpoints stay');
});
