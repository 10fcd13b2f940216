// The local platform's changes of one vm.json within a process run one after the other: a power change and a
// restore-incomplete mark made at once both survive, and a power-on asked while a mark is being set sees it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RestoreIncompleteMark } from '../../src/platform/platform.js';
import { openFreshPlatform, templateVm } from './local-fixtures.js';

const mark = (sessionId: string): RestoreIncompleteMark => ({
  state: 'writing',
  sessionId,
  vmRestorePointId: 'point-1',
  restorePointTime: '2026-01-01T00:00:00.000Z',
  request: { quickRollback: false, powerOnAfterRestore: false },
  since: '2026-01-01T00:00:00.000Z',
});

test('concurrent changes of one vm.json in a process all survive, and a power-on after a mark is refused by it', async () => {
  const { platform } = await openFreshPlatform();
  const vm = await (await platform.stageNewVm(templateVm('rmw01', 1024 * 1024))).commit();

  await platform.setPowerState(vm.id, 'PoweredOn');
  await Promise.all([platform.markRestoreIncomplete(vm.id, mark('session-a')), platform.setPowerState(vm.id, 'PoweredOff')]);
  const both = (await platform.locate(vm.id)).config;
  assert.equal(both.restoreIncomplete?.sessionId, 'session-a', 'the mark survives the power change made at the same time');
  assert.equal(both.powerState, 'PoweredOff', 'the power change survives the mark made at the same time');

  await platform.clearRestoreIncomplete(vm.id, 'session-a');
  const [marked, poweredOn] = await Promise.allSettled([platform.markRestoreIncomplete(vm.id, mark('session-b')), platform.setPowerState(vm.id, 'PoweredOn')]);
  assert.equal(marked.status, 'fulfilled');
  assert.equal(poweredOn.status, 'rejected', 'the power-on asked after the mark sees it');
  const after = (await platform.locate(vm.id)).config;
  assert.equal(after.restoreIncomplete?.sessionId, 'session-b');
  assert.equal(after.powerState, 'PoweredOff');
});
