// Issue #13 fixes: names and metadata reach virsh as data: a new name after `--`, the metadata XML escaped, so
// quotes, `;`, `<`, `&` and option-like words in a name or a restore reason are stored exactly as given.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvmPlatform } from '../../../src/platform/kvm/kvm-platform.js';
import { removeEverything, useSharedLibvirt } from './private-libvirt.js';

const libvirt = useSharedLibvirt();

test('a rename and the restore mark carry hostile text to libvirt as data and read back exactly', async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const platform = await KvmPlatform.open({ uri: lv.uri });
  const staged = await platform.stageNewVm({
    name: 'data01', cpus: 1, memoryMiB: 64, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere',
    hierarchyRootId: '', datastoreId: '', disks: [{ name: 'disk0', size: 1024 * 1024 }],
  });
  const vm = await staged.commit();
  const name = `web "01"; destroy --all <x>&amp; --config`;
  await platform.updateVmConfig({ ...vm, name });
  assert.equal((await platform.findVm(vm.id))?.name, name);
  assert.equal(lv.virsh('domname', vm.id).trim(), name);

  const reason = `</vm><evil/> --live ; $(reboot) '"& ]]>`;
  const mark = { state: 'failed' as const, sessionId: 's1', vmRestorePointId: 'p1', restorePointTime: '2026-01-01T00:00:00.000Z', request: { quickRollback: true, powerOnAfterRestore: false }, since: '2026-01-01T00:00:00.000Z', reason };
  await platform.markRestoreIncomplete(vm.id, mark);
  assert.deepEqual((await platform.findVm(vm.id))?.restoreIncomplete, mark);
  assert.equal((await platform.findVm(vm.id))?.name, name, 'the metadata write touched nothing else');
});
