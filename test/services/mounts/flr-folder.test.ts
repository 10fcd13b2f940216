// The FLR folder of a mount is always one folder right under the FLR root, whatever the VM is named: a libvirt
// domain openem did not define can be named `.` or `..`, and its FUSE folder must not go over the root or its parent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { flrFolderName, flrFolderPath } from '../../../src/services/mounts/flr-folder.js';

const root = '/srv/openem/flr';

test('a VM named `..`, `.`, with a slash, NUL or a leading dot gets an encoded folder right under the FLR root', () => {
  for (const name of ['..', '.', '', '../..', 'a/../../b', '.hidden', 'nul\0byte', 'back\\slash', '/']) {
    const p = flrFolderPath(root, name, new Set());
    assert.equal(dirname(p), root, JSON.stringify(name));
    const folder = p.slice(root.length + 1);
    assert.ok(folder !== '.' && folder !== '..' && !folder.startsWith('.') && !/[/\\\0]/.test(folder), JSON.stringify(name));
  }
  assert.equal(flrFolderName('..'), '%2E.');
  assert.equal(flrFolderName('.'), '%2E');
  assert.equal(flrFolderName('a/b'), 'a%2Fb');
  // A second mount of the same VM still gets a folder of its own.
  assert.equal(flrFolderPath(root, '..', new Set([join(root, '%2E.')])), join(root, '%2E._2'));
});

test('an ordinary VM name keeps its folder name, `_2` for a second mount', () => {
  assert.equal(flrFolderPath(root, 'web01', new Set()), join(root, 'web01'));
  assert.equal(flrFolderPath(root, 'Web Server 2019 (prod)', new Set()), join(root, 'Web Server 2019 (prod)'));
  assert.equal(flrFolderPath(root, 'web01', new Set([join(root, 'web01')])), join(root, 'web01_2'));
});
