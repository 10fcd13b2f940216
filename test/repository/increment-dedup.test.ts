import assert from 'node:assert/strict';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { backUpImage, changeBlock, restoreToBuffer, writeImage, type BlockKind } from './repository-fixtures.js';
import { temporaryRepositoryPerFile } from '../helpers/temporary-repository.js';

const tmp = temporaryRepositoryPerFile();

test('an increment stores only the changed blocks and both points restore their own bytes', async () => {
  const kinds: BlockKind[] = Array.from({ length: 32 }, (_, i) => (i % 4 === 3 ? 'zero' : i % 2 ? 'text' : 'random'));
  const image = join(tmp.dir, 'inc.img');
  await writeImage(image, kinds);
  const full = await backUpImage(tmp.repo, 'vm-inc', image);
  const fullBytes = await readFile(image);

  await changeBlock(image, 2);
  await changeBlock(image, 7);
  const inc = await backUpImage(tmp.repo, 'vm-inc', image, full.manifest);
  assert.equal(inc.stats.blocksNew, 2);
  assert.equal(inc.stats.blocksTotal, 32);
  const differing = inc.manifest.disks[0].blocks.flatMap((h, i) => (h !== full.manifest.disks[0].blocks[i] ? [i] : []));
  assert.deepEqual(differing, [2, 7]);

  assert.ok((await restoreToBuffer(tmp.repo, full.manifest)).equals(fullBytes));
  assert.ok((await restoreToBuffer(tmp.repo, inc.manifest)).equals(await readFile(image)));
});

test('identical blocks are stored once, within a disk and across VMs', async () => {
  const a = join(tmp.dir, 'same-a.img');
  const b = join(tmp.dir, 'same-b.img');
  await writeImage(a, ['random', 'text', 'random']);
  // A disk of the same random block repeated: stored once.
  const data = await readFile(a);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(b, Buffer.concat([data.subarray(0, BLOCK_SIZE), data.subarray(0, BLOCK_SIZE), data.subarray(0, BLOCK_SIZE)]));
  const first = await backUpImage(tmp.repo, 'vm-dedup-b', b);
  assert.equal(first.stats.blocksNew, 1);
  await copyFile(a, join(tmp.dir, 'copy.img'));
  const second = await backUpImage(tmp.repo, 'vm-dedup-a', join(tmp.dir, 'copy.img'));
  assert.equal(second.stats.blocksNew, 2, 'the first block already exists from another VM');
});

test('fetchBlocks fetches a hash wanted at several indexes once and writes it to each', async () => {
  const image = join(tmp.dir, 'rep.img');
  await writeImage(image, ['text']);
  const { manifest } = await backUpImage(tmp.repo, 'vm-rep', image);
  const hash = manifest.disks[0].blocks[0]!;
  const seen: number[] = [];
  let progress = 0;
  await tmp.repo.fetchBlocks(
    [0, 5, 9].map((index) => ({ index, hash })),
    async (index, d) => {
      assert.equal(d.length, BLOCK_SIZE);
      seen.push(index);
    },
    { onProgress: (n) => (progress = n) },
  );
  assert.deepEqual(seen.sort((x, y) => x - y), [0, 5, 9]);
  assert.equal(progress, 3);
});

test('an aborted fetch stops with the abort reason', async () => {
  const image = join(tmp.dir, 'abort.img');
  await writeImage(image, ['random', 'random']);
  const { manifest } = await backUpImage(tmp.repo, 'vm-abort', image);
  const ac = new AbortController();
  const reason = new Error('user cancelled');
  ac.abort(reason);
  await assert.rejects(
    tmp.repo.fetchBlocks(manifest.disks[0].blocks.map((hash, index) => ({ index, hash: hash! })), async () => {}, { signal: ac.signal }),
    (e) => e === reason,
  );
});
