// How long LogonThrottle holds back the answer to each failed logon, and when it locks — on a controlled clock,
// so the slow-down is asserted as the throttle's answer rather than timed (issue #15: no timing in correctness tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BaseContext } from '../../../src/context.js';
import { isOpenemError } from '../../../src/errors.js';
import { LogonThrottle } from '../../../src/services/auth/logon-throttle.js';

function throttle(limit: number) {
  const clock = { at: 1_000_000, now: () => clock.at };
  const ctx = { config: { logonFailureLimit: limit, logonLockoutSeconds: 600 }, clock } as unknown as BaseContext;
  return { t: new LogonThrottle(ctx), clock };
}

function lockedFor(t: LogonThrottle, address: string, user: string): number | undefined {
  try {
    t.assertNotLocked(address, user);
    return undefined;
  } catch (e) {
    assert.ok(isOpenemError(e) && e.code === 'TOO_MANY_REQUESTS', String(e));
    return (e as { retryAfterSeconds?: number }).retryAfterSeconds ?? -1;
  }
}

test('each failed logon after the first is held back longer: 100 ms doubling, at most 2 s', () => {
  const { t } = throttle(100);
  const holds = Array.from({ length: 8 }, () => t.failed('10.0.0.1', 'admin'));
  assert.deepEqual(holds, [0, 100, 200, 400, 800, 1600, 2000, 2000]);
});

test('failures of one name from many addresses, or of many names from one address, are held back alike', () => {
  const { t } = throttle(100);
  assert.deepEqual([1, 2, 3].map((i) => t.failed(`10.0.0.${i}`, 'admin')), [0, 100, 200]);
  assert.deepEqual([1, 2, 3].map((i) => t.failed('10.0.1.1', `name${i}`)), [0, 100, 200]);
});

test('at the limit the name and the address are locked for the lockout, and a success clears the counters', () => {
  const { t, clock } = throttle(3);
  for (let i = 0; i < 3; i++) assert.equal(lockedFor(t, '10.0.0.1', 'admin'), undefined, `not locked after ${i} failures`);
  for (let i = 0; i < 3; i++) t.failed('10.0.0.1', 'admin');
  assert.equal(lockedFor(t, '10.0.0.1', 'admin'), 600);
  assert.equal(lockedFor(t, '10.0.0.9', 'admin'), 600, 'the name is locked from any address');
  assert.equal(lockedFor(t, '10.0.0.1', 'paul'), 600, 'the address is locked for any name');
  assert.equal(lockedFor(t, '10.0.0.9', 'paul'), undefined);
  clock.at += 600_001;
  assert.equal(lockedFor(t, '10.0.0.1', 'admin'), undefined, 'the lock ends with the lockout');
  t.failed('10.0.0.1', 'admin');
  t.succeeded('10.0.0.1', 'admin');
  assert.equal(t.failed('10.0.0.1', 'admin'), 0, 'a success cleared the count');
});
