import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { thisBootTag, thisHostTag, thisMachineTag } from '../../src/host/host-identity.js';
import { LocalPlatform } from '../../src/platform/local/local-platform.js';
import { openFreshPlatform, templateVm } from './local-fixtures.js';

const MIB = 1024 * 1024;

test('a staged VM is invisible until commit, then appears with its written disk', async () => {
  const { dataDir, platform } = await openFreshPlatform();
  const staged = await platform.stageNewVm(templateVm('new01', 4 * MIB));
  assert.deepEqual(await platform.listVms(), []);
  assert.equal(await platform.findVm(staged.config.id), undefined);

  const stagingFolders = (await readdir(join(dataDir, 'datastores/datastore1'))).filter((n) => n.startsWith('.staging-'));
  assert.equal(stagingFolders.length, 1);
  const stagedImage = await stat(join(dataDir, 'datastores/datastore1', stagingFolders[0], 'disk0.img'));
  assert.equal(stagedImage.size, 4 * MIB, 'the disk file has its virtual size');
  assert.equal(stagedImage.blocks, 0, 'and takes no space');

  const w = await staged.openDiskForWrite('disk0');
  await w.write(MIB, Buffer.from('payload'));
  await w.sync();
  await w.close();
  const vm = await staged.commit();

  assert.deepEqual(await platform.listVms(), [vm]);
  const src = await platform.openDisk(vm.id, 'disk0');
  assert.equal(src.size, 4 * MIB);
  assert.equal((await src.read(MIB, 7)).toString(), 'payload');
  await src.close();
  assert.deepEqual((await readdir(join(dataDir, 'datastores/datastore1'))).sort(), ['new01']);
});

test('abort removes everything staged and is safe to call twice', async () => {
  const { dataDir, platform } = await openFreshPlatform();
  const staged = await platform.stageNewVm(templateVm('new01'));
  await staged.abort();
  await staged.abort();
  assert.deepEqual(await readdir(join(dataDir, 'datastores/datastore1')), []);
  await assert.rejects(staged.commit(), { code: 'CONFLICT' });
});

test('opening the platform removes staging folders left by a crashed process, not live ones', async () => {
  const { dataDir, platform } = await openFreshPlatform();
  const store = join(dataDir, 'datastores/vcd-store');
  // pid 2^22+1 is above Linux's pid_max, so no process can own it.
  const crashed = join(store, `.staging-${2 ** 22 + 1}-0b8f0c36-9a0e-4d5e-9d43-6c1f0a1d2e3f`);
  const unowned = join(store, '.staging-leftover');
  // Another host's folder (a node on the same NFS datastores): its pid means nothing here, so it stays.
  const otherHost = join(store, `.staging-h000000000000-${2 ** 22 + 1}-5d1c9a2e-1f3b-4c6d-8e9f-0a1b2c3d4e5f`);
  const crashedHere = join(store, `.staging-h${thisHostTag()}-${2 ** 22 + 1}-7e2d0b3f-2a4c-4d7e-9fa0-1b2c3d4e5f60`);
  for (const dir of [crashed, unowned, otherHost, crashedHere]) {
    await mkdir(dir);
    await writeFile(join(dir, 'disk0.img'), 'partial');
  }
  const live = await platform.stageNewVm({ ...templateVm('live01'), platform: 'vcloud' });

  await LocalPlatform.open(dataDir);
  const left = await readdir(store);
  assert.equal(left.length, 2, `only the live staging folder and the other host's remain: ${left}`);
  assert.ok(left.includes(basename(otherHost)), 'another host\'s staging folder is left to that host');
  assert.ok(left.some((n) => n.startsWith(`.staging-m${thisMachineTag()}-b${thisBootTag()}-${process.pid}-`)), 'the live one stays');
  assert.equal((await live.commit()).name, 'live01');
});

test('after a reboot, staging folders and new images this machine made in the earlier boot are removed though a live process has their pid; this boot\'s live ones and another machine\'s stay', async () => {
  const { dataDir, platform } = await openFreshPlatform();
  const store = join(dataDir, 'datastores/vcd-store');
  const otherTag = (tag: string) => (tag === '0'.repeat(12) ? '1'.repeat(12) : '0'.repeat(12));
  // pid 1 is alive in every boot: only the boot tells this folder's owner is gone.
  const earlierBoot = join(store, `.staging-m${thisMachineTag()}-b${otherTag(thisBootTag())}-1-3f5a7c9e-0b2d-4f6a-8c0e-2a4c6e8a0c2e`);
  const thisBootLive = join(store, `.staging-m${thisMachineTag()}-b${thisBootTag()}-1-4a6c8e0a-1c3e-4a7c-9e1a-3c5e7a9c1e3a`);
  const thisBootGone = join(store, `.staging-m${thisMachineTag()}-b${thisBootTag()}-${2 ** 22 + 1}-5b7d9f1b-2d4f-4b8d-a02b-4d6f8b0d2f4b`);
  const otherMachine = join(store, `.staging-m${otherTag(thisMachineTag())}-b${otherTag(thisBootTag())}-${2 ** 22 + 1}-6c8e0a2c-3e5a-4c9e-b13c-5e7a9c1e3a5c`);
  for (const dir of [earlierBoot, thisBootLive, thisBootGone, otherMachine]) {
    await mkdir(dir);
    await writeFile(join(dir, 'disk0.img'), 'partial');
  }
  // A full restore's new image beside a VM's disk, left in the earlier boot.
  const vm = await (await platform.stageNewVm(templateVm('rebooted01'))).commit();
  const disk = await platform.diskImagePath(vm.id, vm.disks[0].name);
  const image = join(dirname(disk), `${basename(earlierBoot)}.img`);
  await writeFile(image, 'half a disk');

  await LocalPlatform.open(dataDir);
  assert.deepEqual((await readdir(store)).sort(), [basename(otherMachine), basename(thisBootLive)].sort());
  assert.ok(!(await readdir(dirname(disk))).includes(basename(image)), 'the earlier boot\'s new image is gone');
});
