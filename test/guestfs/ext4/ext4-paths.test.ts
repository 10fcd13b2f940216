import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ImageFileSource } from '../../../src/disks/image-file-source.js';
import { isOpenemError } from '../../../src/errors.js';
import { Ext4Reader } from '../../../src/guestfs/ext4/ext4-reader.js';
import { makeImage, sh, tempDir } from '../fixtures/ext4-images.js';

const code = (c: string) => (e: unknown) => isOpenemError(e) && e.code === c;

async function fixture(t: { after(fn: () => void | Promise<void>): void }) {
  const dir = tempDir(t);
  sh(`mkdir -p root/usr/lib root/etc && echo secret > root/etc/passwd && echo lib > root/usr/lib/x.so
      ln -s usr/lib root/lib && ln -s /usr/lib root/abslib && ln -s loop root/loop && ln -s ../../../etc root/usr/lib/up`, dir);
  const image = join(dir, 'fs.img');
  makeImage(image, join(dir, 'root'), { size: '16M' });
  const src = await ImageFileSource.open(image);
  t.after(() => src.close());
  return Ext4Reader.open(src);
}

test('.. never climbs above the guest root', async (t) => {
  const fs = await fixture(t);
  assert.equal((await fs.read('/../../../etc/passwd', 0, 100)).toString(), 'secret\n');
  assert.equal((await fs.stat('/usr/../..//etc/./passwd'))?.path, '/etc/passwd');
  assert.equal((await fs.read('/usr/lib/up/passwd', 0, 100)).toString(), 'secret\n', 'a link with too many .. stops at root');
});

test('symlinks are followed in the middle of a path, not at its end', async (t) => {
  const fs = await fixture(t);
  assert.equal((await fs.read('/lib/x.so', 0, 10)).toString(), 'lib\n');
  assert.equal((await fs.read('/abslib/x.so', 0, 10)).toString(), 'lib\n', 'absolute targets start at the guest root');
  assert.equal((await fs.stat('/lib'))?.type, 'symlink', 'stat is lstat');
  assert.equal(await fs.readlink('/lib'), 'usr/lib');
  await assert.rejects(fs.list('/lib'), code('BAD_REQUEST'));
  await assert.rejects(fs.read('/lib', 0, 1), code('BAD_REQUEST'));
  await assert.rejects(fs.stat('/loop/x'), code('BAD_REQUEST'), 'a symlink loop ends with an error');
});

test('missing paths are NOT_FOUND (stat answers undefined); wrong types are BAD_REQUEST', async (t) => {
  const fs = await fixture(t);
  assert.equal(await fs.stat('/nope'), undefined);
  assert.equal(await fs.stat('/etc/passwd/below'), undefined);
  await assert.rejects(fs.list('/nope'), code('NOT_FOUND'));
  await assert.rejects(fs.read('/nope', 0, 1), code('NOT_FOUND'));
  await assert.rejects(fs.createReadStream('/etc'), code('BAD_REQUEST'));
  await assert.rejects(fs.list('/etc/passwd'), code('BAD_REQUEST'));
  await assert.rejects(fs.readlink('/etc/passwd'), code('BAD_REQUEST'));
});

test('walk yields every entry below a folder, depth first, without following symlinks', async (t) => {
  const fs = await fixture(t);
  const paths: string[] = [];
  for await (const e of fs.walk('/usr')) paths.push(e.path);
  assert.deepEqual(paths.sort(), ['/usr/lib', '/usr/lib/up', '/usr/lib/x.so']);
  let all = 0;
  for await (const _ of fs.walk()) all++;
  assert.equal(all, 10); // lost+found, usr, usr/lib, x.so, up, etc, passwd, lib, abslib, loop
});
