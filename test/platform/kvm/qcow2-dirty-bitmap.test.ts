// A powered-off VM's changes since a checkpoint are read from the qcow2 image's own bitmap (qcow2-dirty-bitmap.ts)
// instead of a qemu-nbd export: they must be exactly what qemu-nbd's qemu:dirty-bitmap context says, for writes
// within a data cluster of bits, across two of them, at the disk's end, and at other granularities; a disabled or
// in-use bitmap, or one that is not there, is no answer.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NbdClient } from '../../../src/platform/kvm/nbd-client.js';
import { mapExtents, serveImage } from '../../../src/platform/kvm/nbd-export.js';
import { readDirtyExtents } from '../../../src/platform/kvm/qcow2-dirty-bitmap.js';

const MiB = 1024 * 1024;

async function qemuDirtyExtents(image: string, bitmap: string) {
  const served = await serveImage(image, 'qcow2', { writable: false, bitmap });
  try {
    const client = await NbdClient.connect(served.socket, served.exportName, { metaContexts: [`qemu:dirty-bitmap:${bitmap}`] });
    try {
      return await mapExtents(client, `qemu:dirty-bitmap:${bitmap}`, (type) => (type & 1) !== 0);
    } finally {
      await client.close();
    }
  } finally {
    await served.stop();
  }
}

test("a qcow2 bitmap's dirty extents read from the image are what qemu-nbd's dirty-bitmap context says", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'openem-qcow2-bits-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const image = join(dir, 'disk.qcow2');
  const size = 1024 * MiB + 3 * 65536;
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, String(size)]);
  execFileSync('qemu-img', ['bitmap', '--add', '--enable', '-f', 'qcow2', image, 'fine']); // 64 KiB: 8 GiB of disk a cluster of bits
  execFileSync('qemu-img', ['bitmap', '--add', '--enable', '-g', '512', '-f', 'qcow2', image, 'finest']); // 256 MiB a cluster of bits
  execFileSync('qemu-img', ['bitmap', '--add', '--enable', '-g', '2M', '-f', 'qcow2', image, 'coarse']);
  execFileSync('qemu-img', ['bitmap', '--add', '-f', 'qcow2', image, 'stopped']);
  execFileSync('qemu-img', ['bitmap', '--disable', '-f', 'qcow2', image, 'stopped']);
  assert.deepEqual(await readDirtyExtents(image, 'fine'), [], 'nothing written yet');

  const writes = [
    [0, 4096],
    [5 * MiB + 512, 1024],
    [256 * MiB - 3 * 65536, 5 * 65536], // across the first and second clusters of the 512-byte bitmap
    [700 * MiB, 3 * MiB],
    [size - 65536, 65536], // the disk's last bit
  ];
  execFileSync('qemu-io', ['-f', 'qcow2', ...writes.flatMap(([at, n]) => ['-c', `write -P 7 ${at} ${n}`]), image], { stdio: 'ignore' });

  for (const name of ['fine', 'finest', 'coarse']) {
    const mine = await readDirtyExtents(image, name);
    assert.deepEqual(mine, await qemuDirtyExtents(image, name), `bitmap ${name}`);
    assert.ok(mine!.length >= 3, `bitmap ${name} has dirty extents`);
  }
  assert.equal(await readDirtyExtents(image, 'stopped'), undefined, 'a disabled bitmap is no answer');
  assert.equal(await readDirtyExtents(image, 'gone'), undefined, 'a bitmap the image does not hold is no answer');

  const writer = await serveImage(image, 'qcow2', { writable: true });
  t.after(() => writer.stop());
  assert.equal(await readDirtyExtents(image, 'fine'), undefined, 'a bitmap in use by a writer is no answer');
});
