import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ImageFileSource } from '../../../src/disks/image-file-source.js';
import { isOpenemError } from '../../../src/errors.js';
import type { AppContext } from '../../../src/services/app-services.js';
import { liveGuestTarget } from '../../../src/services/guest-restore/write-to-live-vm.js';
import { makeImage, sh, tempDir } from '../../guestfs/fixtures/ext4-images.js';
import { writeMbr } from '../../guestfs/fixtures/mbr.js';

const MiB = 1024 * 1024;
const code = (c: string) => (e: unknown) => isOpenemError(e) && e.code === c;

/** The live VM as the platform shows it: one disk, `disk0`, an image file. */
function liveVm(image: string) {
  const vm = { id: 'vm-1', name: 'web01', disks: [{ name: 'disk0' }] };
  const platform = {
    findVm: async (id: string) => (id === vm.id ? vm : undefined),
    openDisk: () => ImageFileSource.open(image),
    exposeDisk: async () => ({ endpoint: { kind: 'raw-file', path: image }, close: async () => undefined }),
  };
  return { platform } as unknown as AppContext;
}

async function twoExt4Partitions(t: { after(fn: () => void): void }): Promise<string> {
  const dir = tempDir(t);
  sh('mkdir one two', dir);
  const image = join(dir, 'disk.img');
  makeImage(image, join(dir, 'one'), { size: '16M', offset: MiB });
  makeImage(image, join(dir, 'two'), { size: '16M', offset: 18 * MiB });
  await writeMbr(image, [{ start: MiB, size: 16 * MiB }, { start: 17 * MiB, size: MiB }, { start: 18 * MiB, size: 16 * MiB }]);
  return image;
}

test("a restore goes into the live disk's partition of the same number as the volume it came from", async (t) => {
  const ctx = liveVm(await twoExt4Partitions(t));
  for (const [partitionIndex, offset] of [[1, MiB], [3, 18 * MiB]]) {
    const target = await liveGuestTarget(ctx, 'vm-1', { diskName: 'disk0', partitionIndex, kind: 'ext4' });
    t.after(() => target.disk.close());
    assert.equal(target.partitionOffset, offset, `partition ${partitionIndex}`);
  }
  await assert.rejects(liveGuestTarget(ctx, 'vm-1', { diskName: 'disk0', partitionIndex: 2, kind: 'ext4' }), code('CONFLICT'), 'partition 2 holds no filesystem, and the disk has two');
  await assert.rejects(liveGuestTarget(ctx, 'vm-1', { diskName: 'disk1', partitionIndex: 1, kind: 'ext4' }), code('NOT_FOUND'));
});

test("a disk's only filesystem of that kind is the target even when its partition number changed since the backup", async (t) => {
  const dir = tempDir(t);
  sh('mkdir root', dir);
  const image = join(dir, 'disk.img');
  makeImage(image, join(dir, 'root'), { size: '16M', offset: 2 * MiB });
  await writeMbr(image, [{ start: MiB, size: MiB, type: 0x0c }, { start: 2 * MiB, size: 16 * MiB }]);
  const target = await liveGuestTarget(liveVm(image), 'vm-1', { diskName: 'disk0', partitionIndex: 1, kind: 'ext4' });
  assert.equal(target.partitionOffset, 2 * MiB);
  assert.equal(target.kind, 'ext4');
  await target.disk.close();
});
