import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ImageFileSource } from '../../../src/disks/image-file-source.js';
import { Ext4Reader } from '../../../src/guestfs/ext4/ext4-reader.js';
import { debugfs, debugfsDump, makeImage, sh, tempDir } from '../fixtures/ext4-images.js';

const GiB = 2 ** 30;

async function openImage(t: { after(fn: () => Promise<void>): void }, image: string) {
  const src = await ImageFileSource.open(image);
  t.after(() => src.close());
  return Ext4Reader.open(src);
}

async function sha(stream: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<string> {
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
  // The whole stream: host head bytes, then zeros (checked by memcmp, not hashed: 5 GiB), then the tail.
  const fd = openSync(host, 'r');
  const expectHead = Buffer.alloc(100000);
  const expectTail = Buffer.alloc(70000);
  readSync(fd, expectHead, 0, 100000, 0);
  readSync(fd, expectTail, 0, 70000, 5 * GiB);
  closeSync(fd);
  const zeros = Buffer.alloc(8 << 20);
  let pos = 0;
  for await (const chunk of await fs.createReadStream('/big')) {
    const c = chunk as Buffer;
    for (let i = 0; i < c.length; ) {
      const at = pos + i;
      if (at < 100000) {
        const n = Math.min(c.length - i, 100000 - at);
        assert.ok(c.subarray(i, i + n).equals(expectHead.subarray(at, at + n)), `head bytes at ${at}`);
        i += n;
      } else if (at < 5 * GiB) {
        const n = Math.min(c.length - i, 5 * GiB - at, zeros.length);
        assert.ok(c.subarray(i, i + n).equals(zeros.subarray(0, n)), `zeros at ${at}`);
        i += n;
      } else {
        const n = c.length - i;
        assert.ok(c.subarray(i).equals(expectTail.subarray(at - 5 * GiB, at - 5 * GiB + n)), `tail bytes at ${at}`);
        i += n;
      }
    }
    pos += c.length;
  }
  assert.equal(pos, 5 * GiB + 70000);
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
  sh('mkdir root', dir);
  const fd = openSync(join(dir, 'root/frag'), 'w');
  for (let i = 0; i < 2000; i++) writeSync(fd, randomBytes(4096), 0, 4096, i * 8192);
  closeSync(fd);
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
