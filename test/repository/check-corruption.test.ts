import assert from 'node:assert/strict';
import { open, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { openRepository } from '../../src/repository/open-repository.js';
import { backUpImage, restoreToBuffer, tempDir, writeImage } from './repository-fixtures.js';

async function packFiles(repoPath: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(join(repoPath, 'packs'))) {
    for (const f of await readdir(join(repoPath, 'packs', d))) out.push(join(repoPath, 'packs', d, f));
  }
  return out;
}

test('a flipped byte in a pack is found by check --read-data and by fetchBlocks, both naming the pack', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const repoPath = join(dir.path, 'repo');
  const repo = await openRepository(repoPath, { create: true });
  t.after(() => repo.close());
  const image = join(dir.path, 'c.img');
  await writeImage(image, ['random', 'text', 'random']);
  const { manifest } = await backUpImage(repo, 'vm-c', image);
  assert.deepEqual((await repo.check({ readData: true })).problems, []);

  const [pack] = await packFiles(repoPath);
  const packId = pack.split('/').pop()!.replace('.pack', '');
  const fh = await open(pack, 'r+');
  const spot = Buffer.alloc(1);
  await fh.read(spot, 0, 1, 8 + BLOCK_SIZE / 2); // inside the first block's data
  spot[0] ^= 0xff;
  await fh.write(spot, 0, 1, 8 + BLOCK_SIZE / 2);
  await fh.close();

  const structural = await repo.check();
  assert.equal(structural.ok, true, 'a flipped byte keeps the structure intact');
  const full = await repo.check({ readData: true });
  assert.equal(full.ok, false);
  assert.equal(full.problems.length, 1);
  assert.match(full.problems[0], new RegExp(`block ${manifest.disks[0].blocks[0]} in pack ${packId}`));
  assert.equal(full.blocksChecked, 2);

  await assert.rejects(restoreToBuffer(repo, manifest), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'CORRUPT');
    assert.match(e.message, new RegExp(`block ${manifest.disks[0].blocks[0]} in pack ${packId}`));
    return true;
  });
});

test('check reports a truncated pack and a manifest naming a block no pack holds', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const repoPath = join(dir.path, 'repo');
  const repo = await openRepository(repoPath, { create: true });
  t.after(() => repo.close());
  const image = join(dir.path, 't.img');
  await writeImage(image, ['random', 'text']);
  const { manifest } = await backUpImage(repo, 'vm-t', image);
  const [pack] = await packFiles(repoPath);
  const fh = await open(pack, 'r+');
  await fh.truncate(1000);
  await fh.close();
  const broken = { ...manifest, id: 'broken-1', disks: [{ ...manifest.disks[0], blocks: ['ab'.repeat(32), null] }] };
  await writeFile(join(repoPath, 'manifests', 'broken-1.json'), JSON.stringify(broken));
  await writeFile(join(repoPath, 'manifests', 'garbage.json'), '{not json');

  const result = await repo.check();
  assert.equal(result.ok, false);
  const text = result.problems.join('\n');
  assert.match(text, new RegExp(`pack ${pack.split('/').pop()!.replace('.pack', '')}: file is 1000 bytes`));
  assert.match(text, /manifest broken-1, disk disk0, block 0: block (ab){32} is not in any pack index/);
  assert.match(text, /manifest garbage: not valid JSON/);
});
