import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalPlatform } from '../../src/platform/local/local-platform.js';
import { openFreshPlatform, templateVm } from './local-fixtures.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test('a fresh data dir gets three hierarchy roots with one datastore each, stable across opens', async () => {
  const { dataDir, platform } = await openFreshPlatform();
  const roots = await platform.hierarchyRoots();
  assert.deepEqual(
    roots.map((r) => [r.name, r.hostType, r.platform]),
    [
      ['vcenter.local', 'VC', 'vsphere'],
      ['hyperv.local', 'HyperV', 'hyperv'],
      ['vcd.local', 'VcdSystem', 'vcloud'],
    ],
  );
  roots.forEach((r) => assert.match(r.id, GUID));
  const stores = await platform.datastores();
  assert.deepEqual(stores.map((d) => d.name), ['datastore1', 'hyperv-store', 'vcd-store']);
  assert.deepEqual(stores.map((d) => d.hierarchyRootId), roots.map((r) => r.id));

  const reopened = await LocalPlatform.open(dataDir);
  assert.deepEqual(await reopened.hierarchyRoots(), roots);
  assert.deepEqual(await reopened.datastores(), stores);
});

test('a VM is found by id and by name, lands on its platform\'s datastore and keeps its id', async () => {
  const { dataDir, platform } = await openFreshPlatform();
  const staged = await platform.stageNewVm({ ...templateVm('db01'), platform: 'hyperv' });
  const vm = await staged.commit();
  assert.match(vm.id, GUID);
  const hyperv = (await platform.datastores()).find((d) => d.name === 'hyperv-store')!;
  assert.equal(vm.datastoreId, hyperv.id);
  assert.equal(vm.hierarchyRootId, hyperv.hierarchyRootId);

  const onDisk = JSON.parse(await readFile(join(dataDir, 'datastores/hyperv-store/db01/vm.json'), 'utf8'));
  assert.equal(onDisk.id, vm.id);
  assert.deepEqual(await platform.findVm(vm.id), vm);
  assert.deepEqual(await platform.findVm(vm.id.toUpperCase()), vm);
  assert.deepEqual(await platform.findVm('db01'), vm);
  assert.equal(await platform.findVm('nope'), undefined);
  assert.deepEqual(await (await LocalPlatform.open(dataDir)).listVms(), [vm]);
  assert.deepEqual((await platform.exposeDisk(vm.id, 'disk0')).endpoint, {
    kind: 'raw-file',
    path: join(dataDir, 'datastores/hyperv-store/db01/disk0.img'),
  });
});

test('a power state change is written to vm.json and seen by another opener', async () => {
  const { dataDir, platform } = await openFreshPlatform();
  const vm = await (await platform.stageNewVm(templateVm('web01'))).commit();
  await platform.setPowerState(vm.id, 'PoweredOn');
  const other = await LocalPlatform.open(dataDir);
  assert.equal((await other.findVm('web01'))?.powerState, 'PoweredOn');
  await other.setPowerState('web01', 'PoweredOff');
  assert.equal((await platform.findVm(vm.id))?.powerState, 'PoweredOff');
});

test('updateVmConfig replaces the config, keeps the id, and a new name renames the folder', async () => {
  const { dataDir, platform } = await openFreshPlatform();
  const vm = await (await platform.stageNewVm(templateVm('app01'))).commit();
  await platform.updateVmConfig({ ...vm, id: vm.id, cpus: 8, name: 'app02' });
  const updated = await platform.findVm(vm.id);
  assert.equal(updated?.cpus, 8);
  assert.equal(updated?.name, 'app02');
  assert.equal(await platform.findVm('app01'), undefined);
  const onDisk = JSON.parse(await readFile(join(dataDir, 'datastores/datastore1/app02/vm.json'), 'utf8'));
  assert.equal(onDisk.cpus, 8);
});

test('removeVm deletes the VM folder and its disks', async () => {
  const { platform } = await openFreshPlatform();
  const vm = await (await platform.stageNewVm(templateVm('gone01'))).commit();
  const path = await platform.diskImagePath(vm.id, 'disk0');
  await platform.removeVm('gone01');
  assert.equal(await platform.findVm(vm.id), undefined);
  await assert.rejects(readFile(path), { code: 'ENOENT' });
  await assert.rejects(platform.removeVm('gone01'), { code: 'NOT_FOUND' });
});

test('unknown VMs and disks are NOT_FOUND', async () => {
  const { platform } = await openFreshPlatform();
  const vm = await (await platform.stageNewVm(templateVm('web01'))).commit();
  await assert.rejects(platform.openDisk('missing', 'disk0'), { code: 'NOT_FOUND' });
  await assert.rejects(platform.openDisk(vm.id, 'disk9'), { code: 'NOT_FOUND' });
  await assert.rejects(platform.setPowerState('missing', 'PoweredOn'), { code: 'NOT_FOUND' });
});
