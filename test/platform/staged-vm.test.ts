import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { thisHostTag } from '../../src/host/host-identity.js';
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
  assert.ok(left.some((n) => n.startsWith(`.staging-h${thisHostTag()}-${process.pid}-`)), 'the live one stays');
  assert.equal((await live.commit()).name, 'live01');
});
