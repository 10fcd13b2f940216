// A full restore's fetch decodes each block on a worker straight into page-aligned shared memory (issue #11 goal 4):
// the bytes are the block's, every view is page-aligned (what O_DIRECT writes without a copy), a block stored twice
// on the disk comes once per place, and a corrupt block still fails naming its pack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { isPageAligned } from '../../src/disks/aligned-memory.js';
import { backUpImage, writeImage, type BlockKind } from './repository-fixtures.js';
import { temporaryRepositoryPerFile } from '../helpers/temporary-repository.js';

const tmp = temporaryRepositoryPerFile();

test('fetchBlocks with alignedBlocks hands over each block, decoded once per place, in page-aligned memory', async () => {
  const kinds: BlockKind[] = Array.from({ length: 40 }, (_, i) => (['random', 'text', 'zero', 'text'] as const)[i % 4]);
  const image = join(tmp.dir, 'a.img');
  const size = 40 * BLOCK_SIZE - 5000; // a short last block
  await writeImage(image, kinds, size);
  // Block 33 repeats block 1: one stored block, written at two places.
  const fh = await open(image, 'r+');
  const one = Buffer.alloc(BLOCK_SIZE);
  await fh.read(one, 0, BLOCK_SIZE, BLOCK_SIZE);
  await fh.write(one, 0, BLOCK_SIZE, 33 * BLOCK_SIZE);
  await fh.close();
  const { manifest } = await backUpImage(tmp.repo, 'vm-a', image);
  const disk = manifest.disks[0];
  const wanted = disk.blocks.flatMap((hash, index) => (hash ? [{ index, hash }] : []));

  const out = Buffer.alloc(size);
  const seen: number[] = [];
  let unaligned = 0;
  await tmp.repo.fetchBlocks(wanted, async (index, data) => {
    if (!isPageAligned(data)) unaligned++;
    seen.push(index);
    data.copy(out, index * BLOCK_SIZE);
  }, { alignedBlocks: true });
  assert.equal(unaligned, 0, 'every block in page-aligned memory');
  assert.deepEqual(seen.sort((a, b) => a - b), wanted.map((w) => w.index));
  assert.ok(out.equals(await readFile(image)), 'byte for byte');
});

test('a corrupt block fetched into aligned memory fails with CORRUPT naming its pack', async () => {
  const image = join(tmp.dir, 'b.img');
  await writeImage(image, ['text', 'random', 'text', 'text']);
  const { manifest } = await backUpImage(tmp.repo, 'vm-b', image);
  const packs = join(tmp.dir, 'repo', 'packs');
  // Every pack of this point gets a byte flipped in the middle of its data.
  for (const sub of await readdir(packs)) {
    for (const name of await readdir(join(packs, sub))) {
      const f = await open(join(packs, sub, name), 'r+');
      const b = Buffer.alloc(1);
      await f.read(b, 0, 1, 1000);
      b[0] ^= 0xff;
      await f.write(b, 0, 1, 1000);
      await f.close();
    }
  }
  const wanted = manifest.disks[0].blocks.flatMap((hash, index) => (hash ? [{ index, hash }] : []));
  await assert.rejects(tmp.repo.fetchBlocks(wanted, async () => {}, { alignedBlocks: true }), (e: Error & { code?: string }) => e.code === 'CORRUPT' && /in pack [0-9a-f]+ .*is corrupt/.test(e.message));
});
