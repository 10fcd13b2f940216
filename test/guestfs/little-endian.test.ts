import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { u16le, u32le } from '../../src/guestfs/little-endian.js';

test('u16le and u32le read what Buffer.readUInt16LE and readUInt32LE read, at every offset and at the extremes', () => {
  const b = Buffer.concat([randomBytes(4093), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x80])]);
  for (let i = 0; i + 4 <= b.length; i++) {
    assert.equal(u16le(b, i), b.readUInt16LE(i), `u16 at ${i}`);
    assert.equal(u32le(b, i), b.readUInt32LE(i), `u32 at ${i}`);
  }
  assert.equal(u32le(b, 4093), 0xffffffff, 'never negative');
  assert.equal(u32le(b, 4097), 0x80000000);
  assert.equal(u32le(b, 4097) | 0, b.readInt32LE(4097), 'made signed as readInt32LE reads it');
});
