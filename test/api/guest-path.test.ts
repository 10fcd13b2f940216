import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOpenemError } from '../../src/errors.js';
import { guestPathFromRawUrl } from '../../src/api/guest-path.js';
import { guestPathToUrl } from '../../src/api/guest-path-url.js';

const GUESTFS = '/api/catalog/vms/exch01/vmRestorePoints/0f1e/guestfs';
const code = (c: string) => (e: unknown) => isOpenemError(e) && e.code === c;

test('a Windows-style path keeps its drive letter, as seed 000 writes it', () => {
  assert.equal(guestPathFromRawUrl(`${GUESTFS}/C:/Users/ana/my%20docs`, 7), 'C:/Users/ana/my docs');
  assert.equal(guestPathFromRawUrl(`${GUESTFS}/c:/Users`, 7), 'C:/Users');
  assert.equal(guestPathFromRawUrl(`${GUESTFS}/C:`, 7), 'C:/');
  assert.throws(() => guestPathFromRawUrl(`${GUESTFS}/C:/../etc`, 7), code('BAD_REQUEST'));
});

test('a Windows path with URL-encoded backslashes names the same as one with slashes: C:%5CUsers is C:/Users', () => {
  assert.equal(guestPathFromRawUrl(`${GUESTFS}/C:%5CUsers`, 7), 'C:/Users');
  assert.equal(guestPathFromRawUrl(`${GUESTFS}/c:%5cUsers%5Cana%5Cmy%20docs`, 7), 'C:/Users/ana/my docs');
  assert.equal(guestPathFromRawUrl(`${GUESTFS}/C:%5C`, 7), 'C:/');
  assert.equal(guestPathFromRawUrl(`${GUESTFS}/C:/Users%5Cana`, 7), 'C:/Users/ana', 'mixed separators');
  assert.throws(() => guestPathFromRawUrl(`${GUESTFS}/C:%5C..%5Cx`, 7), code('BAD_REQUEST'));
  // Without a drive letter a backslash stays part of a (Linux) name.
  assert.equal(guestPathFromRawUrl(`${GUESTFS}/etc/a%5Cb`, 7), '/etc/a\\b');
  assert.equal(guestPathFromRawUrl(`${GUESTFS}/Cx%5CUsers`, 7), '/Cx\\Users');
});

test('a Linux path is as before: no drive, an encoded colon is part of a name', () => {
  assert.equal(guestPathFromRawUrl(`${GUESTFS}/etc/hosts`, 7), '/etc/hosts');
  assert.equal(guestPathFromRawUrl(`${GUESTFS}/%2F`, 7), '/');
  assert.equal(guestPathFromRawUrl(GUESTFS, 7), '/');
  assert.equal(guestPathFromRawUrl(`${GUESTFS}/C%3A/x`, 7), '/C:/x');
});

test('guest paths go back into URLs that name them again', () => {
  for (const p of ['/', '/etc/hosts', '/a b/ç', 'C:/Users/ana', 'C:/', '/C:/x']) {
    const url = `${GUESTFS}/${guestPathToUrl(p)}`;
    assert.equal(guestPathFromRawUrl(url, 7), p, `${p} -> ${url}`);
  }
  assert.equal(guestPathToUrl('C:/Users/my docs'), 'C:/Users/my%20docs');
  assert.equal(guestPathToUrl('/C:'), 'C%3A');
});
