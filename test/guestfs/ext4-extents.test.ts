import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageFileSource } from '../../src/disks/image-file-source.js';
import { Ext4Reader } from '../../src/guestfs/ext4-reader.js';
import { debugfs, debugfsDump, makeImage, sh, tempDir } from './fixtures/ext4-images.js';

const GiB = 2 ** 30;

async function openImage(t: { after(fn: () => Promise<void>): void }, image: string) {
  const src = await ImageFileSource.open(image);
  t.after(() => src.close());
  return Ext4Reader.open(src);
}

async function sha(stream: AsyncIterable<Buffer>): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of stream) h.update(chunk);
  return h.digest('hex');
}

/** Deepest level `debugfs ex` reports (0 = extents in the inode). */
function extentDepth(image: string, path: string): number {
  const levels = [...debugfs(image, `ex ${path}`).matchAll(/^\s*(\d+)\/\s*(\d+)/gm)].map((m) => +m[2]);
  return Math.max(...levels);
}

test('a 5 GiB file with a hole past 4 GiB reads zeros in the hole and data on both sides', async (t) => {
  const dir = tempDir(t);
  sh(`mkdir root && head -c 100000 /dev/urandom > root/big && truncate -s $((5 * 1024 * 1024 * 1024)) root/big
      head -c 70000 /dev/urandom >> root/big`, dir);
  const image = join(dir, 'fs.img');
  makeImage(image, join(dir, 'root'), { size: '64M' });
  const fs = await openImage(t, image);
  const host = join(dir, 'root/big');
  const entry = await fs.stat('/big');
  assert.equal(entry?.size, 5 * GiB + 70000);
  assert.equal(await sha(await fs.createReadStream('/big')), await sha(createReadStream(host)));
  // Edges: the end of the first data run, the middle of the hole, the start of the tail run.
  const hostRange = (start: number, end: number) => sha(createReadStream(host, { start, end: end - 1 }));
  for (const [start, end] of [[99990, 100010], [4.5 * GiB, 4.5 * GiB + 1000], [5 * GiB - 5, 5 * GiB + 70000]]) {
    assert.equal(await sha([await fs.read('/big', start, end - start)]), await hostRange(start, end), `read ${start}`);
    assert.equal(await sha(await fs.createReadStream('/big', { start, end })), await hostRange(start, end), `stream ${start}`);
  }
  assert.equal((await fs.read('/big', 5 * GiB + 69990, 100)).length, 10, 'reads stop at the end of the file');
});

test('a fragmented file with a depth-2 extent tree reads the same bytes as debugfs', async (t) => {
  const dir = tempDir(t);
  // 2,000 data pieces separated by holes: 2,000 extents overflow a depth-1 tree of 1 KiB blocks.
  sh(`mkdir root && for i in $(seq 0 1999); do head -c 4096 /dev/urandom | dd of=root/frag bs=4096 seek=$((i*2)) conv=notrunc status=none; done`, dir);
  const image = join(dir, 'fs.img');
  makeImage(image, join(dir, 'root'), { size: '64M', mkfsArgs: ['-b', '1024'] });
  assert.ok(extentDepth(image, '/frag') >= 2, 'the fixture has a depth >= 2 extent tree');
  const fs = await openImage(t, image);
  const dumped = debugfsDump(image, '/frag', join(dir, 'frag.out'));
  assert.equal(await sha(await fs.createReadStream('/frag')), await sha(createReadStream(dumped)));
  assert.equal(await sha(await fs.createReadStream('/frag')), await sha(createReadStream(join(dir, 'root/frag'))));
});

test('unwritten (preallocated) extents read as zeros, as debugfs reads them', async (t) => {
  const dir = tempDir(t);
  sh(`mkdir root && : > root/empty && printf 'stale' > stale`, dir);
  const image = join(dir, 'fs.img');
  makeImage(image, join(dir, 'root'), { size: '16M', mkfsArgs: ['-b', '4096'] });
  debugfs(image, 'fallocate /empty 0 9', 0, true);
  debugfs(image, 'sif /empty size 40960', 0, true);
  assert.match(debugfs(image, 'ex /empty'), /Uninit/);
  const fs = await openImage(t, image);
  const bytes = await fs.read('/empty', 0, 40960);
  assert.equal(bytes.length, 40960);
  assert.ok(bytes.every((b) => b === 0));
  assert.deepEqual(bytes, readFileSync(debugfsDump(image, '/empty', join(dir, 'u.out'))));
});
