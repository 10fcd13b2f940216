import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageFileSource } from '../../src/disks/image-file-source.js';
import { PartitionSource } from '../../src/disks/partition-source.js';
import { writeGptWithSinglePartition } from '../../src/disks/gpt-writer.js';
import { isOpenemError } from '../../src/errors.js';
import { Ext4Reader } from '../../src/guestfs/ext4-reader.js';
import { writeGuestFiles, type GuestWriteItem } from '../../src/guestfs/ext4-writer.js';
import { debugfsDump, debugfsList, e2fsckClean, makeImage, sh, tempDir } from './fixtures/ext4-images.js';

const MiB = 1024 * 1024;
const OFFSET = MiB;
const code = (c: string) => (e: unknown) => isOpenemError(e) && e.code === c;
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A GPT disk with ext4 at 1 MiB holding /etc/app.conf and /home/u. */
async function diskWithExt4(dir: string, fsSize = '30M', extra = '') {
  sh(`mkdir -p root/etc root/home/u && echo 'old=1' > root/etc/app.conf ${extra}`, dir);
  const disk = join(dir, 'disk.img');
  makeImage(disk, join(dir, 'root'), { size: fsSize, offset: OFFSET, mkfsArgs: ['-I', '256'] });
  const fsBytes = parseInt(fsSize) * MiB;
  await writeGptWithSinglePartition(disk, OFFSET + fsBytes + MiB, OFFSET, fsBytes, 'root');
  return disk;
}

async function withReader<T>(disk: string, use: (fs: Ext4Reader) => Promise<T>): Promise<T> {
  const src = await ImageFileSource.open(disk);
  try {
    return await use(await Ext4Reader.open(new PartitionSource(src, OFFSET, src.size - OFFSET)));
  } finally {
    await src.close();
  }
}

const attrs = { uid: 1000, gid: 1001, mtime: new Date('2022-01-02T03:04:05.678Z') };

test('writes a changed file, a new nested folder with awkward names and a symlink; e2fsck stays clean', async (t) => {
  const dir = tempDir(t);
  const disk = await diskWithExt4(dir);
  const conf = join(dir, 'app.conf');
  writeFileSync(conf, 'new=2\n'.repeat(1000));
  const weird = join(dir, 'weird');
  writeFileSync(weird, 'bytes with "quotes" and spaces');
  const items: GuestWriteItem[] = [
    { guestPath: '/etc/app.conf', type: 'file', sourceFile: conf, mode: 0o600, ...attrs },
    { guestPath: '/srv/new/nested', type: 'dir', mode: 0o750, ...attrs },
    { guestPath: '/srv/new/nested/we ird "name" é.txt', type: 'file', sourceFile: weird, mode: 0o644, ...attrs },
    { guestPath: '/srv/new/link', type: 'symlink', linkTarget: '../app "target"', mode: 0o777, ...attrs },
  ];

  const result = await writeGuestFiles(disk, OFFSET, items);
  assert.deepEqual(result.createdParents, ['/srv', '/srv/new']);
  assert.deepEqual(result.written, ['/etc/app.conf', '/srv/new/nested', '/srv/new/nested/we ird "name" é.txt', '/srv/new/link']);

  // e2fsprogs' view.
  const etc = debugfsList(disk, '/etc', OFFSET).find((e) => e.name === 'app.conf');
  assert.deepEqual(etc && [etc.mode, etc.uid, etc.gid, etc.size], [0o100600, 1000, 1001, 6000]);
  assert.equal(sha(debugfsDump(disk, '/etc/app.conf', join(dir, 'o1'), OFFSET)), sha(conf));
  assert.equal(sha(debugfsDump(disk, '/srv/new/nested/we ird "name" é.txt', join(dir, 'o2'), OFFSET)), sha(weird));
  const nested = debugfsList(disk, '/srv/new', OFFSET).find((e) => e.name === 'nested');
  assert.equal(nested?.mode, 0o40750);

  // Our reader's view, including the nanosecond-precise mtime.
  await withReader(disk, async (fs) => {
    assert.equal((await fs.read('/etc/app.conf', 0, 6)).toString(), 'new=2\n');
    const st = await fs.stat('/etc/app.conf');
    assert.equal(st?.mtime.toISOString(), '2022-01-02T03:04:05.678Z');
    assert.equal(await fs.readlink('/srv/new/link'), '../app "target"');
    assert.equal((await fs.stat('/srv/new/link'))?.uid, 1000);
    assert.deepEqual((await fs.list('/etc')).map((e) => e.name), ['app.conf'], 'the old file is gone, not duplicated');
  });
  const fsck = e2fsckClean(disk, OFFSET);
  assert.ok(fsck.clean, fsck.output);
});

test('a file too big for the free space fails with NO_SPACE before anything is written', async (t) => {
  const dir = tempDir(t);
  const disk = await diskWithExt4(dir, '8M');
  const big = join(dir, 'big');
  writeFileSync(big, Buffer.alloc(12 * MiB, 1));
  const before = sha(disk);
  await assert.rejects(
    writeGuestFiles(disk, OFFSET, [{ guestPath: '/home/u/big', type: 'file', sourceFile: big, mode: 0o644, ...attrs }]),
    code('NO_SPACE'),
  );
  assert.equal(sha(disk), before, 'the image is untouched');
});

test('replacing a file counts the space it frees', async (t) => {
  const dir = tempDir(t);
  const disk = await diskWithExt4(dir, '16M', '&& head -c $((9*1024*1024)) /dev/urandom > root/home/u/data');
  const replacement = join(dir, 'data');
  writeFileSync(replacement, Buffer.alloc(9 * MiB, 7));
  await writeGuestFiles(disk, OFFSET, [{ guestPath: '/home/u/data', type: 'file', sourceFile: replacement, mode: 0o644, ...attrs }]);
  assert.equal(sha(debugfsDump(disk, '/home/u/data', join(dir, 'out'), OFFSET)), sha(replacement));
});

test('names debugfs cannot express, and folder/file clashes, are refused before writing', async (t) => {
  const dir = tempDir(t);
  const disk = await diskWithExt4(dir);
  const f = join(dir, 'f');
  writeFileSync(f, 'x');
  const before = sha(disk);
  await assert.rejects(
    writeGuestFiles(disk, OFFSET, [{ guestPath: '/etc/bad\nname', type: 'file', sourceFile: f, mode: 0o644, ...attrs }]),
    code('BAD_REQUEST'),
  );
  await assert.rejects(
    writeGuestFiles(disk, OFFSET, [{ guestPath: '/home/u', type: 'file', sourceFile: f, mode: 0o644, ...attrs }]),
    code('CONFLICT'),
  );
  await assert.rejects(
    writeGuestFiles(disk, OFFSET, [{ guestPath: '/etc/app.conf/below', type: 'file', sourceFile: f, mode: 0o644, ...attrs }]),
    code('CONFLICT'),
  );
  assert.equal(sha(disk), before);
});
