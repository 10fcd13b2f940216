import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageFileSource } from '../../src/disks/image-file-source.js';
import { PartitionSource } from '../../src/disks/partition-source.js';
import { tempDir } from '../guestfs/fixtures/ext4-images.js';

test('a partition view reads its own window, cut at its end and at the disk end', async (t) => {
  const disk = join(tempDir(t), 'disk.img');
  const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
  await writeFile(disk, bytes);
  const src = await ImageFileSource.open(disk);
  t.after(() => src.close());

  const part = new PartitionSource(src, 1000, 2000);
  assert.equal(part.size, 2000);
  assert.deepEqual(await part.read(0, 10), bytes.subarray(1000, 1010));
  assert.deepEqual(await part.read(1995, 100), bytes.subarray(2995, 3000));
  assert.equal((await part.read(2000, 10)).length, 0);
  assert.deepEqual(await part.allocatedExtents(), [{ offset: 0, length: 2000 }]);

  const past = new PartitionSource(src, 3000, 5000); // a table claiming more than the disk holds
  assert.equal(past.size, 1096);
  await part.close();
  assert.deepEqual(await src.read(0, 2), bytes.subarray(0, 2), 'closing a view leaves the disk open');
});
