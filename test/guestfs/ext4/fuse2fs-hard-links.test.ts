/**
 * Hard links in a restored ext4 tree, written through fuse2fs (the same write path as NTFS's, mounted/write-item.ts):
 * names that share one inode in the restore point share one again in the live volume, as e2fsprogs' debugfs sees it
 * (inode numbers, link counts), their bytes and attributes as at backup, and e2fsck finds the volume clean.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageFileSource } from '../../../src/disks/image-file-source.js';
import { PartitionSource } from '../../../src/disks/partition-source.js';
import { Ext4Reader } from '../../../src/guestfs/ext4/ext4-reader.js';
import { Fuse2fsWriter } from '../../../src/guestfs/ext4/fuse2fs-writer.js';
import { planGuestItem } from '../../../src/services/guest-restore/plan-guest-item.js';
import { debugfs, debugfsList, e2fsckClean, makeImage, q, tempDir } from '../fixtures/ext4-images.js';
import { guestSnapshot } from '../fixtures/guest-snapshot.js';

const MiB = 1024 * 1024;
const OFFSET = MiB;
const FS_SIZE = '30M';
const b = (s: string) => Buffer.from(s);

/** [inode, link count] of each path, as debugfs reads the image. */
function inodesOf(image: string, paths: string[]): [number, number][] {
  return paths.map((p) => {
    const shown = debugfs(image, `stat ${q(p)}`, OFFSET);
    const inode = /Inode:\s+(\d+)/.exec(shown);
    const links = /Links:\s+(\d+)/.exec(shown);
    assert.ok(inode && links, `debugfs stat ${p}: ${shown}`);
    return [Number(inode[1]), Number(links[1])];
  });
}

test('names that share one inode in the restore point are restored through fuse2fs as hard links of one file', async (t) => {
  const dir = tempDir(t, 'openem-ext4-links-');
  // The restore point: /share with a file under three names (one in a subfolder) and another under two.
  const tree = join(dir, 'point-tree');
  mkdirSync(join(tree, 'share/sub'), { recursive: true });
  writeFileSync(join(tree, 'share/report.bin'), Buffer.alloc(300_000, 7));
  linkSync(join(tree, 'share/report.bin'), join(tree, 'share/report (link).bin'));
  linkSync(join(tree, 'share/report.bin'), join(tree, 'share/sub/report.bin'));
  writeFileSync(join(tree, 'share/sub/small.txt'), 'small\n');
  linkSync(join(tree, 'share/sub/small.txt'), join(tree, 'share/small again.txt'));
  writeFileSync(join(tree, 'share/plain.txt'), 'not linked\n');
  const point = join(dir, 'point.img');
  makeImage(point, tree, { size: FS_SIZE, offset: OFFSET, mkfsArgs: ['-I', '256', '-b', '4096'] });
  const linked = ['/share/report.bin', '/share/report (link).bin', '/share/sub/report.bin'];
  const small = ['/share/sub/small.txt', '/share/small again.txt'];
  assert.equal(new Set(inodesOf(point, linked).map(([i]) => i)).size, 1, 'mke2fs -d kept the links: the restore point has them');

  // The live VM: the same volume without /share.
  const liveTree = join(dir, 'live-tree');
  mkdirSync(join(liveTree, 'etc'), { recursive: true });
  writeFileSync(join(liveTree, 'etc/hostname'), 'web01\n');
  const live = join(dir, 'live.img');
  makeImage(live, liveTree, { size: FS_SIZE, offset: OFFSET, mkfsArgs: ['-I', '256', '-b', '4096'] });

  const source = await ImageFileSource.open(point);
  try {
    const fs = await Ext4Reader.open(new PartitionSource(source, OFFSET, source.size - OFFSET));
    const planned = await planGuestItem(fs, (await fs.stat('/share'))!);
    assert.equal(planned.dataBytes, 300_000 + 6 + 11, 'each linked file counts once');
    const writer = new Fuse2fsWriter({ imagePath: live, offset: OFFSET, workRoot: join(dir, 'flr-work') });
    await writer.write({ parent: [], item: planned.item, onExisting: 'replace' });
  } finally {
    await source.close();
  }

  const report = inodesOf(live, linked);
  assert.deepEqual(report, [report[0], report[0], report[0]], 'the three names of the report are one inode');
  assert.equal(report[0][1], 3, 'which counts three links');
  const smalls = inodesOf(live, small);
  assert.deepEqual(smalls, [[smalls[0][0], 2], [smalls[0][0], 2]], 'the two names of small.txt are one inode of two links');
  assert.notEqual(smalls[0][0], report[0][0]);
  assert.equal(inodesOf(live, ['/share/plain.txt'])[0][1], 1);
  assert.deepEqual(debugfsList(live, '/share', OFFSET).map((e) => e.name).sort(), ['plain.txt', 'report (link).bin', 'report.bin', 'small again.txt', 'sub']);
  assert.deepEqual(await guestSnapshot(live, OFFSET, [b('share')]), await guestSnapshot(point, OFFSET, [b('share')]), 'bytes, modes, owners and times as at backup');
  const check = e2fsckClean(live, OFFSET);
  assert.ok(check.clean, check.output);
});
