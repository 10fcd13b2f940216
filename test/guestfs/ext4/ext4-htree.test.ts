import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ImageFileSource } from '../../../src/disks/image-file-source.js';
import { Ext4Reader } from '../../../src/guestfs/ext4/ext4-reader.js';
import { debugfs, debugfsList, makeImage, run, sh, tempDir } from '../fixtures/ext4-images.js';

test('a 6,000-entry hash-indexed (htree) folder lists every entry once, like debugfs', async (t) => {
  const dir = tempDir(t);
  sh(`mkdir -p root/many && cd root/many && for i in $(seq 1 6000); do : > "entry with a longish name $i"; done && echo x > 'entry with a longish name 77'`, dir);
  const image = join(dir, 'fs.img');
  makeImage(image, join(dir, 'root'), { size: '64M', mkfsArgs: ['-b', '1024'] });
  // mke2fs -d links entries linearly; e2fsck -D rebuilds large folders as htrees.
  try {
    run('e2fsck', ['-fyD', image]);
  } catch {
    // exit code 1 = "filesystem was modified", which is the point
  }
  assert.match(debugfs(image, 'stat /many'), /Flags: 0x\w*1\w{3}\b/, 'fixture folder has the INDEX flag');
  assert.match(debugfs(image, 'htree /many'), /Number of entries/);

  const src = await ImageFileSource.open(image);
  t.after(() => src.close());
  const fs = await Ext4Reader.open(src);
  const ours = (await fs.list('/many')).map((e) => `${e.name}:${e.id}:${e.size}`).sort();
  const theirs = debugfsList(image, '/many').map((e) => `${e.name}:${e.inode}:${e.size}`).sort();
  assert.equal(ours.length, 6000);
  assert.deepEqual(ours, theirs);
  assert.equal((await fs.read('/many/entry with a longish name 77', 0, 10)).toString(), 'x\n');
  assert.equal(await fs.stat('/many/entry with a longish name 6001'), undefined);
});
