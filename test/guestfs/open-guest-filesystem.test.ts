import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageFileSource } from '../../src/disks/image-file-source.js';
import { writeGptWithSinglePartition } from '../../src/disks/gpt-writer.js';
import { openGuestFilesystem, openGuestFilesystems } from '../../src/guestfs/open-guest-filesystem.js';
import { writeMbr } from './fixtures/mbr.js';
import { makeImage, sh, tempDir } from './fixtures/ext4-images.js';

const MiB = 1024 * 1024;

async function open(t: { after(fn: () => Promise<void>): void }, image: string) {
  const src = await ImageFileSource.open(image);
  t.after(() => src.close());
  return openGuestFilesystem(src);
}

test('finds ext4 in the GPT partition of a disk and reports its offset', async (t) => {
  const dir = tempDir(t);
  sh('mkdir root && echo hi > root/hello', dir);
  const disk = join(dir, 'disk.img');
  makeImage(disk, join(dir, 'root'), { size: '30M', offset: 2 * MiB });
  await writeGptWithSinglePartition(disk, 34 * MiB, 2 * MiB, 30 * MiB, 'root');
  const r = await open(t, disk);
  assert.ok(r.fs, 'found a filesystem');
  assert.equal(r.offset, 2 * MiB);
  assert.equal(r.partition?.index, 1);
  assert.equal(r.partition?.name, 'root');
  assert.equal((await r.fs.read('/hello', 0, 10)).toString(), 'hi\n');
});

test('a whole-disk ext4 (no partition table) is found at offset 0', async (t) => {
  const dir = tempDir(t);
  sh('mkdir root && echo hi > root/hello', dir);
  const disk = join(dir, 'disk.img');
  makeImage(disk, join(dir, 'root'), { size: '16M' });
  const r = await open(t, disk);
  assert.ok(r.fs);
  assert.equal(r.offset, 0);
  assert.equal(r.partition, undefined);
  assert.equal((await r.fs.stat('/hello'))?.size, 3);
});

test('a disk with nothing ext4 on it says why it cannot be indexed', async (t) => {
  const dir = tempDir(t);
  const blank = join(dir, 'blank.img');
  await writeFile(blank, Buffer.alloc(8 * MiB));
  const none = await open(t, blank);
  assert.equal(none.fs, undefined);
  assert.ok(!none.fs && /no partition table .* no ext4/.test(none.reason));

  const gpt = join(dir, 'gpt.img');
  await writeFile(gpt, Buffer.alloc(8 * MiB));
  await writeGptWithSinglePartition(gpt, 8 * MiB, MiB, 4 * MiB, 'data');
  const notExt4 = await open(t, gpt);
  assert.ok(!notExt4.fs && /#1 \(type 0fc63daf.*\) is not ext4/.test(notExt4.reason), !notExt4.fs ? notExt4.reason : '');
});

test('every filesystem on a disk is found, in partition order, with its kind and the OS it means', async (t) => {
  const dir = tempDir(t);
  sh('mkdir one two && echo 1 > one/first && echo 2 > two/second', dir);
  const disk = join(dir, 'disk.img');
  makeImage(disk, join(dir, 'one'), { size: '16M', offset: MiB });
  makeImage(disk, join(dir, 'two'), { size: '16M', offset: 18 * MiB });
  // #1 ext4, #2 one MiB that holds no filesystem, #3 ext4.
  await writeMbr(disk, [{ start: MiB, size: 16 * MiB }, { start: 17 * MiB, size: MiB }, { start: 18 * MiB, size: 16 * MiB }]);
  const src = await ImageFileSource.open(disk);
  t.after(() => src.close());
  const r = await openGuestFilesystems(src);
  assert.deepEqual(r.found.map((f) => [f.partition?.index, f.offset, f.kind, f.osKind, f.driveLetters]), [[1, MiB, 'ext4', 'Linux', false], [3, 18 * MiB, 'ext4', 'Linux', false]]);
  assert.match(r.reason, /#2 \(type 0x83\) is not ext4/);
  assert.equal((await r.found[0].fs.read('/first', 0, 10)).toString(), '1\n');
  assert.equal((await r.found[1].fs.read('/second', 0, 10)).toString(), '2\n');
  const first = await openGuestFilesystem(src);
  assert.equal(first.fs && first.partition?.index, 1, 'the first one, as before');
});
