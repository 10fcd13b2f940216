// openem reads a qcow2 image's virtual size and persistent bitmaps from the image's own metadata
// (qcow2-header.ts), without starting qemu-img: it must say what `qemu-img info` says, for enabled, disabled and
// in-use bitmaps (an image open for writing), other granularities, and an image without bitmaps.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readQcow2Header } from '../../../src/platform/kvm/qcow2-header.js';
import { NbdClient } from '../../../src/platform/kvm/nbd-client.js';

function qemuImgInfo(image: string): { size: number; bitmaps: { name: string; flags: string[] }[] } {
  const info = JSON.parse(execFileSync('qemu-img', ['info', '-U', '-f', 'qcow2', '--output=json', image], { encoding: 'utf8' }));
  return { size: info['virtual-size'], bitmaps: (info['format-specific']?.data?.bitmaps ?? []).map((b: { name: string; flags: string[] }) => ({ name: b.name, flags: b.flags })) };
}

test("a qcow2 image's size and bitmaps, read from its header, are what qemu-img info says", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'openem-qcow2-header-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const image = join(dir, 'disk.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '3G']);
  assert.deepEqual(await readQcow2Header(image), { size: 3 * 1024 ** 3, bitmaps: [] });
  execFileSync('qemu-img', ['bitmap', '--add', '--enable', '-f', 'qcow2', image, 'openem-1764547200000-0123abcd']);
  execFileSync('qemu-img', ['bitmap', '--add', '-g', '128K', '-f', 'qcow2', image, 'a-longer-name-of-a-libvirt-checkpoint']);
  execFileSync('qemu-img', ['bitmap', '--add', '-f', 'qcow2', image, 'stopped']);
  execFileSync('qemu-img', ['bitmap', '--disable', '-f', 'qcow2', image, 'stopped']);
  const closed = await readQcow2Header(image);
  assert.deepEqual(closed, qemuImgInfo(image));
  assert.deepEqual(closed.bitmaps.map((b) => b.flags), [['auto'], ['auto'], []], 'enabled and disabled bitmaps are told apart');

  // Open for writing, every bitmap is in use until the image is closed cleanly.
  const socket = join(dir, 'nbd.sock');
  const nbd = spawn('qemu-nbd', ['--persistent', '-k', socket, '-f', 'qcow2', image], { stdio: 'ignore' });
  const exited = new Promise((r) => nbd.once('exit', r));
  t.after(async () => {
    nbd.kill();
    await exited;
  });
  for (let tries = 0; ; tries++) {
    try {
      await (await NbdClient.connect(socket, '')).close();
      break;
    } catch (e) {
      if (tries > 500) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const open = await readQcow2Header(image);
  assert.deepEqual(open, qemuImgInfo(image));
  assert.ok(open.bitmaps.every((b) => b.flags.includes('in-use')), 'bitmaps of an image open for writing are in use');
});
