import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { BlockSource, Extent } from '../../../src/disks/block-source.js';
import { ImageFileSource } from '../../../src/disks/image-file-source.js';
import { Ext4Reader } from '../../../src/guestfs/ext4/ext4-reader.js';
import { makeImage, run, sh, tempDir } from '../fixtures/ext4-images.js';

/** A block source that records every read made of it. */
class CountingSource implements BlockSource {
  readonly reads: { offset: number; length: number }[] = [];
  constructor(private readonly inner: BlockSource) {}
  get size(): number {
    return this.inner.size;
  }
  read(offset: number, length: number): Promise<Buffer> {
    this.reads.push({ offset, length });
    return this.inner.read(offset, length);
  }
  allocatedExtents(): Promise<Extent[]> {
    return this.inner.allocatedExtents();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** An ext4 image (mke2fs -d) holding /many, a folder of 3,000 small files, opened as a source. */
async function folderImage(t: { after(fn: () => unknown): void }): Promise<{ dir: string; image: string; file: ImageFileSource }> {
  const dir = tempDir(t);
  sh('mkdir -p root/many && cd root/many && for i in $(seq 1 3000); do echo "$i" > "file-$i.txt"; done', dir);
  const image = join(dir, 'fs.img');
  makeImage(image, join(dir, 'root'), { size: '64M' });
  const file = await ImageFileSource.open(image);
  t.after(() => file.close());
  return { dir, image, file };
}

/** Where e2fsprogs says each inode lies: `debugfs imap` for all of them in one run. */
function inodeOffsets(dir: string, image: string, inodes: number[], blockSize: number): number[] {
  const commands = join(dir, 'imap.cmds');
  writeFileSync(commands, inodes.map((i) => `imap <${i}>\n`).join(''));
  const out = run('debugfs', ['-f', commands, image]);
  const found = [...out.matchAll(/located at block (\d+), offset (0x[0-9a-f]+)/g)].map((m) => Number(m[1]) * blockSize + Number(m[2]));
  assert.equal(found.length, inodes.length, 'debugfs located every inode');
  return found;
}

test('listing a 3,000-entry folder reads each inode-table piece and each directory block once, in pieces far larger than an inode, and listing it again reads nothing', async (t) => {
  const { dir, image, file } = await folderImage(t);
  const source = new CountingSource(file);
  const fs = await Ext4Reader.open(source);
  source.reads.length = 0;

  const listed = await fs.list('/many');
  assert.equal(listed.length, 3000);
  const reads = [...source.reads].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < reads.length; i++) {
    assert.ok(reads[i].offset >= reads[i - 1].offset + reads[i - 1].length, `no byte is read twice (${JSON.stringify(reads[i - 1])} and ${JSON.stringify(reads[i])})`);
  }
  const inodeSize = fs.superblock.inodeSize;
  const offsets = inodeOffsets(dir, image, listed.map((e) => Number(e.id)), fs.superblock.blockSize);
  const covering = new Set<number>();
  for (const at of offsets) {
    const r = reads.findIndex((x) => x.offset <= at && at + inodeSize <= x.offset + x.length);
    assert.ok(r >= 0, `the inode at byte ${at} was read`);
    covering.add(r);
  }
  const tableBytes = listed.length * inodeSize;
  // 3,000 inodes of 256 bytes fill 188 inode-table blocks of 4 KiB: read as a dozen 64 KiB pieces, not block by block.
  assert.ok(covering.size <= Math.ceil(tableBytes / (64 * 1024)) + 1, `${covering.size} reads hold the ${listed.length} inodes`);
  assert.ok(reads.length < 100, `${reads.length} reads in all for the folder and its inodes`);

  source.reads.length = 0;
  assert.equal((await fs.list('/many')).length, 3000);
  assert.deepEqual(source.reads, [], 'the second listing is served from the reader’s caches');
});

const BLOCK = 1024 * 1024;

/**
 * A source shaped like a repository disk with its cache gone: each read loads the whole 1 MiB block around it and
 * hands out a view into it, keeping nothing itself. `alive` says how many of the blocks it loaded are still held.
 */
class BlockViewSource implements BlockSource {
  private readonly loaded: WeakRef<ArrayBufferLike>[] = [];
  constructor(private readonly inner: BlockSource) {}
  get size(): number {
    return this.inner.size;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    const start = offset - (offset % BLOCK);
    if (offset + length > start + BLOCK) return this.inner.read(offset, length);
    const block = Buffer.allocUnsafeSlow(BLOCK);
    (await this.inner.read(start, BLOCK)).copy(block);
    this.loaded.push(new WeakRef(block.buffer));
    return block.subarray(offset - start, offset - start + length);
  }
  alive(): number {
    return this.loaded.filter((r) => r.deref() !== undefined).length;
  }
  get loads(): number {
    return this.loaded.length;
  }
  allocatedExtents(): Promise<Extent[]> {
    return this.inner.allocatedExtents();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

test("the reader's caches hold their own bytes, not the source's 1 MiB blocks they were read from", async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { file } = await folderImage(t);
  const source = new BlockViewSource(file);
  const fs = await Ext4Reader.open(source);
  assert.equal((await fs.list('/many')).length, 3000);
  const loads = source.loads;
  assert.ok(loads > 0);
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(source.alive(), 0, `${source.alive()} of the ${loads} blocks read are still held`);
  // The caches are still there: the listing again reads nothing.
  assert.equal((await fs.list('/many')).length, 3000);
  assert.equal(source.loads, loads);
});
