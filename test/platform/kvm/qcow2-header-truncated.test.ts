// A qcow2 image whose file ends inside its bitmap directory (cut short by a copy or a full disk) is no image
// openem reads: its header, its size and its dirty bitmaps' changes fail with UNAVAILABLE saying the directory
// runs past the end of the file, as qemu-img refuses to open it, instead of reading the missing bytes as zeros
// (nameless, disabled bitmaps).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { imageSize } from '../../../src/platform/kvm/qcow2-bitmaps.js';
import { readDirtyExtents } from '../../../src/platform/kvm/qcow2-dirty-bitmap.js';
import { readQcow2Header } from '../../../src/platform/kvm/qcow2-header.js';

const BITMAPS_EXTENSION = 0x23852875;

/** The bitmaps extension's directory offset and size, found in the header as qcow2.txt lays it out. */
function directoryOf(head: Buffer): { offset: number; size: number } {
  for (let at = head.readUInt32BE(100); ; ) {
    const type = head.readUInt32BE(at);
    const length = head.readUInt32BE(at + 4);
    assert.notEqual(type, 0, 'the image has a bitmaps extension');
    if (type === BITMAPS_EXTENSION) return { size: Number(head.readBigUInt64BE(at + 16)), offset: Number(head.readBigUInt64BE(at + 24)) };
    at += 8 + Math.ceil(length / 8) * 8;
  }
}

test('a qcow2 image cut short inside its bitmap directory is UNAVAILABLE, not bitmaps read as zeros', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'openem-qcow2-cut-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const image = join(dir, 'disk.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1G']);
  execFileSync('qemu-img', ['bitmap', '--add', '--enable', '-f', 'qcow2', image, 'openem-1764547200000-0123abcd']);
  execFileSync('qemu-img', ['bitmap', '--add', '--enable', '-f', 'qcow2', image, 'another']);
  assert.equal((await readQcow2Header(image)).bitmaps.length, 2);

  const directory = directoryOf(await readFile(image));
  await truncate(image, directory.offset + Math.floor(directory.size / 2));
  assert.notEqual(spawnSync('qemu-img', ['info', '-U', '-f', 'qcow2', image]).status, 0, 'qemu-img does not open it either');

  const cut = (e: unknown) => (e as { code?: string }).code === 'UNAVAILABLE' && /bitmap directory .* runs past the end of the file/.test((e as Error).message);
  await assert.rejects(readQcow2Header(image), cut);
  await assert.rejects(imageSize(image, 'qcow2'), cut);
  await assert.rejects(readDirtyExtents(image, 'another'), cut);
});
