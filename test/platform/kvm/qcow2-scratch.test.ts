import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createScratchQcow2 } from '../../../src/platform/kvm/qcow2-scratch.js';

const haveQemuImg = spawnSync('qemu-img', ['--version'], { stdio: 'ignore' }).status === 0;

test('a pull backup\'s scratch file is an empty qcow2 image of the disk\'s size that qemu-img checks clean, only its owner\'s, and never written over a file already there', { skip: !haveQemuImg && 'qemu-img is missing' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'openem-scratch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const owner = { uid: process.getuid!(), gid: process.getgid!() };
  // 4 GiB: one L1 cluster; an odd size; 5 TiB: an L1 table of two clusters.
  for (const size of [4 * 2 ** 30, 12345 * 512, 5 * 2 ** 40]) {
    const path = join(dir, `s${size}.qcow2`);
    await createScratchQcow2(path, size, owner);
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', path], { encoding: 'utf8' }));
    assert.equal(info.format, 'qcow2');
    assert.equal(info['virtual-size'], size);
    assert.equal(info['backing-filename'], undefined, 'no backing file is named');
    const check = JSON.parse(execFileSync('qemu-img', ['check', '--output=json', path], { encoding: 'utf8' }));
    assert.equal(check['check-errors'], 0);
    assert.equal(check.corruptions ?? 0, 0);
    assert.equal(check.leaks ?? 0, 0);
    assert.equal(check['allocated-clusters'] ?? 0, 0, 'nothing is allocated');
    assert.equal(JSON.parse(execFileSync('qemu-img', ['map', '--output=json', path], { encoding: 'utf8' })).every((m: { data: boolean }) => !m.data), true, 'the guest\'s view is all unallocated');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  }
  const planted = join(dir, 'planted.qcow2');
  await writeFile(planted, 'not mine');
  await assert.rejects(createScratchQcow2(planted, 2 ** 20, owner), { code: 'UNAVAILABLE' });
});
