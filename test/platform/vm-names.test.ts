import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openFreshPlatform, templateVm } from './local-fixtures.js';

test('names that are not safe folder names are refused with BAD_REQUEST', async () => {
  const { platform } = await openFreshPlatform();
  for (const bad of ['a/b', 'a\\b', 'a\0b', '..', 'x..y', '.hidden', '', 'n'.repeat(129), ' padded']) {
    await assert.rejects(platform.stageNewVm(templateVm(bad)), { code: 'BAD_REQUEST' }, JSON.stringify(bad));
  }
  const ok = await (await platform.stageNewVm(templateVm('n'.repeat(128)))).commit();
  assert.equal(ok.name.length, 128);
});

test('a name already used on any datastore is a CONFLICT', async () => {
  const { platform } = await openFreshPlatform();
  await (await platform.stageNewVm(templateVm('web01'))).commit();
  await assert.rejects(platform.stageNewVm({ ...templateVm('web01'), platform: 'hyperv' }), { code: 'CONFLICT' });
});

test('two staged VMs with one name: the second commit is a CONFLICT and leaves the first intact', async () => {
  const { platform } = await openFreshPlatform();
  const first = await platform.stageNewVm(templateVm('race01'));
  const second = await platform.stageNewVm({ ...templateVm('race01'), platform: 'vcloud' });
  const committed = await first.commit();
  await assert.rejects(second.commit(), { code: 'CONFLICT' });
  await second.abort();
  assert.deepEqual(await platform.listVms(), [committed]);
});

test('disk names in a template must be plain names (a new disk\'s image file is named after it)', async () => {
  const { platform } = await openFreshPlatform();
  const t = templateVm('web01');
  await assert.rejects(
    platform.stageNewVm({ ...t, disks: [{ name: '../escape', size: 1 << 20 }] }),
    { code: 'BAD_REQUEST' },
  );
});
