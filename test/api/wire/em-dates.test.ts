import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isoUtc } from '../../../src/api/inventory/em-dates.js';

const byDate = (ms: number) => new Date(ms).toISOString().replace(/\.?0*Z$/, 'Z');

test('isoUtc writes whole seconds as Date#toISOString does, without a fraction, from 1970 to 9999 and beyond', () => {
  for (const ms of [0, 951_782_400_000, 1_377_081_876_000, Date.UTC(2000, 1, 29, 23, 59, 59), Date.UTC(2100, 2, 1), Date.UTC(9999, 11, 31, 23, 59, 59), Date.UTC(10000, 0, 1), -1000, -62_198_755_200_000]) {
    assert.equal(isoUtc(ms), byDate(ms), String(ms));
  }
  fc.assert(fc.property(fc.integer({ min: 0, max: 253_402_300_799 }), (s) => isoUtc(s * 1000) === byDate(s * 1000)), { numRuns: 20_000 });
});

test('isoUtc keeps a fraction without trailing zeros (2017-01-12T16:56:28.7Z)', () => {
  assert.equal(isoUtc(Date.UTC(2017, 0, 12, 16, 56, 28, 700)), '2017-01-12T16:56:28.7Z');
  assert.equal(isoUtc(Date.UTC(2017, 0, 12, 16, 56, 28, 5)), '2017-01-12T16:56:28.005Z');
});
