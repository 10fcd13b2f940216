import { test } from 'node:test';
import assert from 'node:assert/strict';
import { debugfsCommand, setAttributesCommands } from '../../src/guestfs/debugfs-script.js';
import { isOpenemError } from '../../src/errors.js';

test('arguments are quoted, with inner quotes doubled, so a name cannot start a second command', () => {
  assert.equal(debugfsCommand('rm', '/a b/say "hi"; rm /x'), 'rm "/a b/say ""hi""; rm /x"');
});

test('newlines and NUL cannot be expressed and are BAD_REQUEST', () => {
  for (const bad of ['/a\nrm /etc/passwd', '/a\rb', '/a\0b']) {
    assert.throws(() => debugfsCommand('write', '/tmp/x', bad), (e) => isOpenemError(e) && e.code === 'BAD_REQUEST');
  }
});

test('mtime keeps milliseconds and the epoch bits past 2038 in mtime_extra', () => {
  const lines = setAttributesCommands('/f', { mode: 0o100640, uid: 5, gid: 6, mtime: new Date('2040-01-01T00:00:00.250Z') });
  const seconds = Date.UTC(2040, 0, 1) / 1000; // > 2^31: signed i_mtime wraps, epoch bits = 1
  assert.deepEqual(lines, [
    'sif "/f" "mode" "0100640"',
    'sif "/f" "uid" "5"',
    'sif "/f" "gid" "6"',
    `sif "/f" "mtime" "@${seconds}"`,
    `sif "/f" "mtime_extra" "${((250_000_000 << 2) | 1) >>> 0}"`,
  ]);
});
