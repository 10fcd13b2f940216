import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { LocalPlatform } from '../../src/platform/local/local-platform.js';
import { openPlatforms } from '../../src/platform/open-platforms.js';
import { PlatformRegistry } from '../../src/platform/platform-registry.js';
import { tempDir, templateVm } from './local-fixtures.js';

/** Two local platforms in one registry, as a config with `platforms` builds it. */
async function twoPlatforms() {
  const dataDir = await tempDir('openem-data-');
  const config = loadConfig({ env: {}, flags: { dataDir } });
  const registry = await openPlatforms({
    ...config,
    platforms: [
      { id: 'local', kind: 'local' },
      { id: 'lab', kind: 'local', dataDir: 'lab' },
    ],
  });
  return { dataDir, registry, main: registry.get('local') as LocalPlatform, lab: registry.get('lab') as LocalPlatform };
}

test('the registry holds every configured platform; the inventory is theirs together', async () => {
  const { registry, main, lab } = await twoPlatforms();
  assert.deepEqual(registry.platforms.map((p) => [p.id, p.kind]), [['local', 'local'], ['lab', 'local']]);
  const a = await (await main.stageNewVm(templateVm('web01'))).commit();
  const b = await (await lab.stageNewVm(templateVm('lab01'))).commit();
  assert.deepEqual(await registry.listVms(), [a, b]);
  assert.equal((await registry.hierarchyRoots()).length, 6, 'three roots on each platform');
  assert.deepEqual(await registry.datastores(), [...(await main.datastores()), ...(await lab.datastores())]);
});

test("each VM's calls go to the platform it lives on, by id or by name", async () => {
  const { dataDir, registry, main, lab } = await twoPlatforms();
  await (await main.stageNewVm(templateVm('web01'))).commit();
  const b = await (await lab.stageNewVm(templateVm('lab01'))).commit();
  assert.equal((await registry.platformOf(b.id)).id, 'lab');
  assert.equal((await registry.platformOf('lab01')).id, 'lab');
  await registry.setPowerState(b.id, 'PoweredOn');
  const onDisk = JSON.parse(await readFile(join(dataDir, 'lab', 'datastores/datastore1/lab01/vm.json'), 'utf8'));
  assert.equal(onDisk.powerState, 'PoweredOn', "the change is in the lab platform's folder");
  const w = await registry.openDiskForWrite('lab01', 'disk0');
  await w.write(0, Buffer.from('lab'));
  await w.close();
  const source = await registry.openDisk(b.id, 'disk0');
  try {
    assert.equal((await source.read(0, 3)).toString(), 'lab');
  } finally {
    await source.close();
  }
  assert.equal((await registry.exposeDisk(b.id, 'disk0')).endpoint.path, await lab.diskImagePath(b.id, 'disk0'));
});

test('a new VM goes to the platform of the datastore it names, else to the first platform', async () => {
  const { registry, main, lab } = await twoPlatforms();
  const labStore = (await lab.datastores())[1];
  const onLab = await (await registry.stageNewVm({ ...templateVm('db01'), platform: 'hyperv', datastoreId: labStore.id })).commit();
  assert.equal(onLab.datastoreId, labStore.id);
  assert.ok(await lab.findVm(onLab.id));
  const onMain = await (await registry.stageNewVm(templateVm('web02'))).commit();
  assert.ok(await main.findVm(onMain.id));
  assert.equal(await lab.findVm(onMain.id), undefined);
});

test('a name on two platforms is refused as ambiguous (CONFLICT), its ids still resolve; an unknown VM is NOT_FOUND', async () => {
  const { registry, main, lab } = await twoPlatforms();
  const a = await (await main.stageNewVm(templateVm('twin'))).commit();
  const b = await (await lab.stageNewVm(templateVm('twin'))).commit();
  await assert.rejects(registry.findVm('twin'), { code: 'CONFLICT' });
  assert.deepEqual(await registry.findVm(a.id), a);
  assert.deepEqual(await registry.findVm(b.id.toUpperCase()), b);
  assert.equal(await registry.findVm('nobody'), undefined);
  await assert.rejects(registry.setPowerState('nobody', 'PoweredOn'), { code: 'NOT_FOUND' });
  await assert.rejects(registry.openDisk('nobody', 'disk0'), { code: 'NOT_FOUND' });
});

test('the config names the platforms: one local platform by default; an unknown kind is refused', async () => {
  const dataDir = await tempDir('openem-data-');
  assert.deepEqual(loadConfig({ env: {}, flags: { dataDir } }).platforms, [{ id: 'local', kind: 'local' }]);
  const registry = await openPlatforms(loadConfig({ env: {}, flags: { dataDir } }));
  assert.deepEqual(registry.platforms.map((p) => (p as LocalPlatform).dataDir), [dataDir]);
  await assert.rejects(openPlatforms({ dataDir, platforms: [{ id: 'x', kind: 'xen' }] }), { code: 'BAD_CONFIG', message: /unknown kind 'xen'/ });
});

test('platforms come from the config file; a repeated id or a malformed entry is refused when the config loads', async () => {
  const dataDir = await tempDir('openem-data-');
  const file = join(dataDir, 'openem.json');
  await writeFile(file, JSON.stringify({ platforms: [{ id: 'local', kind: 'local' }, { id: 'lab', kind: 'local', dataDir: 'lab' }] }));
  const config = loadConfig({ env: {}, flags: { dataDir } });
  assert.deepEqual(config.platforms, [{ id: 'local', kind: 'local' }, { id: 'lab', kind: 'local', dataDir: 'lab' }]);
  assert.deepEqual((await openPlatforms(config)).platforms.map((p) => (p as LocalPlatform).dataDir), [dataDir, join(dataDir, 'lab')]);
  await writeFile(file, JSON.stringify({ platforms: [{ id: 'a', kind: 'local' }, { id: 'a', kind: 'local' }] }));
  assert.throws(() => loadConfig({ env: {}, flags: { dataDir } }), { code: 'BAD_CONFIG', message: /the id 'a' is used twice/ });
  await writeFile(file, JSON.stringify({ platforms: [{ kind: 'local' }] }));
  assert.throws(() => loadConfig({ env: {}, flags: { dataDir } }), { code: 'BAD_CONFIG', message: /platforms\[0\]/ });
  await writeFile(file, JSON.stringify({ platforms: [] }));
  assert.throws(() => loadConfig({ env: {}, flags: { dataDir } }), { code: 'BAD_CONFIG', message: /non-empty list/ });
});

test('a registry of no platforms, or of two sharing an id, is BAD_CONFIG', async () => {
  const dataDir = await tempDir('openem-data-');
  assert.throws(() => new PlatformRegistry([]), { code: 'BAD_CONFIG', message: /at least one platform/ });
  const one = await LocalPlatform.open(dataDir, { id: 'same' });
  const two = await LocalPlatform.open(join(dataDir, 'two'), { id: 'same' });
  assert.throws(() => new PlatformRegistry([one, two]), { code: 'BAD_CONFIG', message: /two platforms share the id 'same'/ });
});

test('OPENEM_DATASTORES_DIR keeps the local platform\'s VMs in that folder: two nodes with their own data directories on one such folder see the same VMs', async () => {
  const shared = await tempDir('openem-datastores-');
  const [dataA, dataB] = [await tempDir('openem-data-a-'), await tempDir('openem-data-b-')];
  const nodeA = await openPlatforms(loadConfig({ env: { OPENEM_DATASTORES_DIR: shared }, flags: { dataDir: dataA } }));
  const vm = await (await (nodeA.get('local') as LocalPlatform).stageNewVm(templateVm('shared01'))).commit();
  const nodeB = await openPlatforms(loadConfig({ env: { OPENEM_DATASTORES_DIR: shared }, flags: { dataDir: dataB } }));
  assert.deepEqual(await nodeB.listVms(), [vm], 'the second node sees the VM the first one made');
  const files = async (dir: string) => (await readdir(dir, { recursive: true })).map(String);
  assert.ok((await files(shared)).some((f) => f.endsWith('vm.json')), 'the VM lives in the shared folder');
  assert.ok(!(await files(dataA)).some((f) => f.endsWith('vm.json')), 'not in the node\'s data directory');
  assert.equal(loadConfig({ env: { OPENEM_DATASTORES_DIR: 'vms' }, flags: { dataDir: dataA } }).datastoresDir, join(dataA, 'vms'), 'a relative folder is below the data directory');
  assert.equal(loadConfig({ env: {}, flags: { dataDir: dataA } }).datastoresDir, undefined, 'unset, VMs stay in the data directory');
});
