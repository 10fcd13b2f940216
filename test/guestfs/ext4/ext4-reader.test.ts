import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ImageFileSource } from '../../../src/disks/image-file-source.js';
import { PartitionSource } from '../../../src/disks/partition-source.js';
import { Ext4Reader } from '../../../src/guestfs/ext4/ext4-reader.js';
import { compareWithDebugfs } from '../fixtures/compare-with-debugfs.js';
import { debugfs, makeImage, sh, tempDir, type MakeImageOptions } from '../fixtures/ext4-images.js';

/** A small tree with the shapes that trip readers up. */
const TREE = `
mkdir -p 'a/b/c' 'café ünï' 'with space/inner'
: > empty
head -c 1 /dev/urandom > one
head -c 4095 /dev/urandom > a/almost-block
head -c 4096 /dev/urandom > a/b/block
head -c 3000000 /dev/urandom > a/b/c/three-megs
printf 'text\\n' > '日本語.txt'
printf 'q' > 'with space/quote"d name'
ln -s a/b/block fast-link
ln -s "$(printf 'd%.0s' {1..200})/target" slow-link
ln -s ../../one 'with space/inner/up'
touch -d '2021-05-06 07:08:09.123456789' one
touch -h -d '1999-12-31 23:59:59' fast-link
`;

async function openImage(t: { after(fn: () => Promise<void>): void }, image: string, offset = 0) {
  const src = await ImageFileSource.open(image);
  t.after(() => src.close());
  return Ext4Reader.open(offset ? new PartitionSource(src, offset, src.size - offset) : src);
}

const variants: { name: string; opts: MakeImageOptions }[] = [
  { name: 'ext4, 64bit, 4 KiB blocks, 256-byte inodes', opts: { size: '64M', mkfsArgs: ['-b', '4096', '-I', '256', '-O', '64bit'] } },
  { name: 'ext4 without 64bit (32-byte group descriptors)', opts: { size: '64M', mkfsArgs: ['-b', '4096', '-I', '256', '-O', '^64bit'] } },
  { name: 'ext4, 1 KiB blocks, 128-byte inodes', opts: { size: '48M', mkfsArgs: ['-b', '1024', '-I', '128'] } },
  { name: 'ext4 with meta_bg', opts: { size: '64M', mkfsArgs: ['-b', '1024', '-I', '256', '-O', 'meta_bg,^resize_inode'] } },
  { name: 'ext3 (block maps, no extents)', opts: { size: '64M', type: 'ext3', mkfsArgs: ['-I', '256'] } },
  { name: 'ext4 with inline_data', opts: { size: '64M', mkfsArgs: ['-I', '256', '-O', 'inline_data'] } },
  { name: 'ext4 at a 1 MiB offset in the image', opts: { size: '64M', offset: 1 << 20, mkfsArgs: ['-I', '256'] } },
];

for (const v of variants) {
  test(`reader matches debugfs and the source tree: ${v.name}`, async (t) => {
    const dir = tempDir(t);
    const source = join(dir, 'root');
    sh(`mkdir root && cd root && ${TREE}`, dir);
    const image = join(dir, 'fs.img');
    makeImage(image, source, v.opts);
    const fs = await openImage(t, image, v.opts.offset);
    const inlineData = v.opts.mkfsArgs?.includes('inline_data');
    const compared = await compareWithDebugfs(fs, { image, offset: v.opts.offset, sourceDir: source, scratch: dir, inlineData });
    assert.ok(compared >= 17, `compared ${compared} entries`);
  });
}

test('nanosecond mtimes and post-2038 epoch bits are read from the extra inode fields', async (t) => {
  const dir = tempDir(t);
  sh(`mkdir root && : > root/f && : > root/late`, dir);
  const image = join(dir, 'fs.img');
  makeImage(image, join(dir, 'root'), { size: '16M', mkfsArgs: ['-I', '256'] });
  // i_mtime_extra = nanoseconds << 2 | epoch bits; epoch 1 adds 2^32 seconds to the signed 32-bit field.
  debugfs(image, `sif /f mtime @1620284889`, 0, true);
  debugfs(image, `sif /f mtime_extra ${(123456789 << 2) >>> 0}`, 0, true);
  debugfs(image, `sif /late mtime 0xffffffff`, 0, true); // 0xffffffff: signed -1 ...
  debugfs(image, `sif /late mtime_extra 1`, 0, true); // ... plus epoch 1 = 2^32 - 1 seconds (year 2106)
  const fs = await openImage(t, image);
  assert.equal((await fs.stat('/f'))?.mtime.toISOString(), '2021-05-06T07:08:09.123Z');
  assert.equal((await fs.stat('/late'))?.mtime.getTime(), (2 ** 32 - 1) * 1000);
  // A listing decodes its inodes in place (listedInodeEntry), not through parseInode: the same times and fields.
  const listed = new Map((await fs.list('/')).map((e) => [e.name, e]));
  for (const name of ['f', 'late']) {
    const { mtime, size, mode, uid, gid, type, id } = (await fs.stat(`/${name}`))!;
    const e = listed.get(name)!;
    assert.deepEqual({ mtime: e.mtime, size: e.size, mode: e.mode, uid: e.uid, gid: e.gid, type: e.type, id: e.id }, { mtime, size, mode, uid, gid, type, id }, name);
  }
  assert.equal(listed.get('f')!.mtime.toISOString(), '2021-05-06T07:08:09.123Z');
});
