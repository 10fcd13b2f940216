import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE, type BlockSource, type ChainBreak, type Extent } from '../../src/disks/block-source.js';
import { ImageFileSource } from '../../src/disks/image-file-source.js';
import type { DiskManifest, RestorePointManifest } from '../../src/repository/repository.js';
import { changeBlock, restoreToBuffer, vmConfig, writeImage, type BlockKind } from './repository-fixtures.js';
import { temporaryRepositoryPerFile } from '../helpers/temporary-repository.js';

const tmp = temporaryRepositoryPerFile();

/** An image behind the plain interface, with the extents and change tracking a test declares; counts every byte read. */
class CountingSource implements BlockSource {
  bytesRead = 0;
  changedAsked: string[] = [];
  changeTracking?: BlockSource['changeTracking'];

  constructor(
    private readonly image: ImageFileSource,
    private readonly extents: Extent[],
    tracking?: { checkpoint: string; changed: Extent[] | ChainBreak },
  ) {
    if (tracking) {
      this.changeTracking = {
        checkpoint: tracking.checkpoint,
        changedBlocksSince: async (checkpoint) => {
          this.changedAsked.push(checkpoint);
          return tracking.changed;
        },
      };
    }
  }

  get size(): number {
    return this.image.size;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const data = await this.image.read(offset, length);
    this.bytesRead += data.length;
    return data;
  }

  async allocatedExtents(): Promise<Extent[]> {
    return this.extents;
  }

  async close(): Promise<void> {}
}

async function backUp(
  vmId: string,
  source: BlockSource,
  previous?: RestorePointManifest,
  notes: string[] = [],
): Promise<{ manifest: RestorePointManifest; stats: { blocksTotal: number; blocksZero: number; bytesRead: number } }> {
  const writer = await tmp.repo.beginBackup(vmId);
  await writer.addDisk('disk0', source, { previous: previous?.disks[0], onNote: (n) => notes.push(n) }).catch(async (e) => {
    await writer.abort();
    throw e;
  });
  return writer.commit({
    id: randomUUID(),
    restorePointId: randomUUID(),
    jobId: 'job-1',
    vmId,
    vmName: `vm-${vmId}`,
    createdAt: new Date().toISOString(),
    pointType: previous ? 'Increment' : 'Full',
    parentId: previous?.id,
    vm: vmConfig(vmId),
  });
}

const kinds: BlockKind[] = ['random', 'text', 'zero', 'zero', 'zero', 'random', 'zero', 'zero', 'text', 'zero'];
const dataExtents: Extent[] = [
  { offset: 0, length: 2 * BLOCK_SIZE },
  { offset: 5 * BLOCK_SIZE, length: BLOCK_SIZE },
  { offset: 8 * BLOCK_SIZE, length: BLOCK_SIZE },
];

test('a backup reads only where the source says the data is, and its point restores every byte', async () => {
  const image = join(tmp.dir, 'thin.img');
  await writeImage(image, kinds);
  const file = await ImageFileSource.open(image);
  try {
    const thin = new CountingSource(file, dataExtents);
    const { manifest, stats } = await backUp('vm-thin', thin);
    assert.equal(thin.bytesRead, 4 * BLOCK_SIZE, 'no hole was read');
    assert.equal(stats.bytesRead, 4 * BLOCK_SIZE);
    assert.equal(stats.blocksTotal, kinds.length, 'holes count as blocks of the disk');
    assert.equal(stats.blocksZero, kinds.filter((k) => k === 'zero').length);
    assert.deepEqual(manifest.disks[0].blocks.map((h) => h === null), kinds.map((k) => k === 'zero'));
    assert.equal(manifest.disks[0].checkpoint, undefined, 'no CBT, no checkpoint');
    assert.ok((await restoreToBuffer(tmp.repo, manifest)).equals(await readFile(image)));
  } finally {
    await file.close();
  }
});

test('with CBT, an increment reads only the blocks changed since the previous point, and takes the rest from it', async () => {
  const image = join(tmp.dir, 'cbt.img');
  await writeImage(image, kinds);
  let file = await ImageFileSource.open(image);
  let full: RestorePointManifest;
  try {
    const first = new CountingSource(file, dataExtents, { checkpoint: 'cp-1', changed: { broken: 'test: no such checkpoint' } });
    full = (await backUp('vm-cbt', first)).manifest;
    assert.equal(full.disks[0].checkpoint, 'cp-1', 'the point records the checkpoint it was read at');
    assert.deepEqual(first.changedAsked, [], 'a first backup asks for no changes');
  } finally {
    await file.close();
  }

  await changeBlock(image, 8);
  file = await ImageFileSource.open(image);
  try {
    const second = new CountingSource(file, dataExtents, { checkpoint: 'cp-2', changed: [{ offset: 8 * BLOCK_SIZE + 100, length: 10 }] });
    const inc = await backUp('vm-cbt', second, full);
    assert.deepEqual(second.changedAsked, ['cp-1']);
    assert.equal(second.bytesRead, BLOCK_SIZE, 'only the changed block was read');
    const disk: DiskManifest = inc.manifest.disks[0];
    assert.equal(disk.checkpoint, 'cp-2');
    assert.deepEqual(disk.blocks.flatMap((h, i) => (h !== full.disks[0].blocks[i] ? [i] : [])), [8]);
    assert.equal(inc.stats.blocksTotal, kinds.length);
    assert.ok((await restoreToBuffer(tmp.repo, inc.manifest)).equals(await readFile(image)));
  } finally {
    await file.close();
  }
});

test('with CBT but a broken chain, the increment reads every allocated block again', async () => {
  const image = join(tmp.dir, 'broken.img');
  await writeImage(image, kinds);
  const file = await ImageFileSource.open(image);
  try {
    const full = (await backUp('vm-broken', new CountingSource(file, dataExtents, { checkpoint: 'a', changed: { broken: 'test: no such checkpoint' } }))).manifest;
    await changeBlock(image, 1);
    const again = new CountingSource(file, dataExtents, { checkpoint: 'b', changed: { broken: 'test: no such checkpoint' } });
    const notes: string[] = [];
    const inc = await backUp('vm-broken', again, full, notes);
    assert.equal(again.bytesRead, 4 * BLOCK_SIZE, 'a full read of the allocated extents');
    assert.deepEqual(notes, ['Disk disk0: changed-block tracking cannot count from the previous restore point (test: no such checkpoint); the disk was read in full'], 'and the backup says why');
    assert.deepEqual(inc.manifest.disks[0].blocks.flatMap((h, i) => (h !== full.disks[0].blocks[i] ? [i] : [])), [1]);
    assert.ok((await restoreToBuffer(tmp.repo, inc.manifest)).equals(await readFile(image)));
  } finally {
    await file.close();
  }
});
