import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { writeGptWithSinglePartition } from '../../../src/disks/gpt-writer.js';
import { corrupt, isOpenemError } from '../../../src/errors.js';
import { Fuse2fsWriter } from '../../../src/guestfs/ext4/fuse2fs-writer.js';
import type { GuestItem, GuestWriteRequest } from '../../../src/guestfs/guest-writer.js';
import { e2fsckClean, makeImage, sh, tempDir } from '../fixtures/ext4-images.js';
import { ATTRS, dirItem, entryAt, entryBytes, fileItem, guestSnapshot, symlinkItem, withImageReader } from '../fixtures/guest-snapshot.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const OFFSET = MiB;
const code = (c: string) => (e: unknown) => isOpenemError(e) && e.code === c;
const b = (s: string) => Buffer.from(s);
const path = (p: string) => p.split('/').filter(Boolean).map(b);

/** A GPT disk with ext4 at 1 MiB holding /etc/app.conf and /home/u (plus whatever `extra` makes). */
async function diskWithExt4(dir: string, fsSize = '30M', extra = '') {
  sh(`mkdir -p root/etc root/home/u && echo 'old=1' > root/etc/app.conf && echo mine > root/home/u/notes ${extra}`, dir);
  const disk = join(dir, 'disk.img');
  makeImage(disk, join(dir, 'root'), { size: fsSize, offset: OFFSET, mkfsArgs: ['-I', '256', '-b', '4096'] });
  const fsBytes = parseInt(fsSize) * MiB;
  await writeGptWithSinglePartition(disk, OFFSET + fsBytes + MiB, OFFSET, fsBytes, 'root');
  return disk;
}

function writerFor(dir: string, disk: string) {
  const workRoot = join(dir, 'flr-work');
  return { workRoot, writer: new Fuse2fsWriter({ imagePath: disk, offset: OFFSET, workRoot }) };
}

/** Nothing of the write outlives it: no mount, no fuse2fs process, no folder under the work root. */
function assertNothingLeft(workRoot: string) {
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(workRoot), 'no mount left under the work root');
  const helpers = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(workRoot);
    } catch {
      return false;
    }
  });
  assert.deepEqual(helpers, [], 'no fuse2fs process left');
  assert.deepEqual(readdirSync(workRoot), [], 'no work folder left');
}

/** A file whose bytes fail half-way, as a corrupt pack would make them. */
function failingFile(name: string, size: number): GuestItem {
  return {
    type: 'file',
    name: b(name),
    attrs: ATTRS,
    size,
    dataRanges: [{ start: 0, end: size }],
    read: async () => {
      let sent = false;
      return new Readable({
        read() {
          if (sent) this.destroy(corrupt('pack 00c0ffee is corrupt'));
          else this.push(Buffer.alloc(Math.min(MiB, size / 2), 3));
          sent = true;
        },
      });
    },
  };
}

test('writes a changed file, a new nested folder with awkward names and a symlink; attributes kept; e2fsck clean', async (t) => {
  const dir = tempDir(t);
  const disk = await diskWithExt4(dir);
  const { writer, workRoot } = writerFor(dir, disk);
  const conf = Buffer.from('new=2\n'.repeat(1000));
  const weird = Buffer.from('bytes with "quotes" and spaces');
  const r1 = await writer.write({ parent: path('/etc'), item: fileItem('app.conf', conf, { mode: 0o600 }), onExisting: 'replace' });
  assert.deepEqual([r1.replaced, r1.written, r1.createdParents], [true, 1, []]);
  const nested = dirItem('nested', [fileItem('we ird "name" é.txt', weird)], { mode: 0o750 });
  const r2 = await writer.write({ parent: path('/srv/new'), item: nested, onExisting: 'replace' });
  assert.deepEqual(r2.createdParents.map((p) => p.map(String).join('/')), ['srv', 'srv/new']);
  assert.equal(r2.written, 2);
  await writer.write({ parent: path('/srv/new'), item: symlinkItem('link', '../app "target"'), onExisting: 'replace' });

  await withImageReader(disk, OFFSET, async (fs) => {
    const st = await fs.stat('/etc/app.conf');
    assert.deepEqual(st && [st.mode, st.uid, st.gid, st.size, st.mtime.toISOString()], [0o100600, 1000, 1001, 6000, '2022-01-02T03:04:05.678Z']);
    assert.ok((await fs.read('/etc/app.conf', 0, 6000)).equals(conf));
    assert.ok((await fs.read('/srv/new/nested/we ird "name" é.txt', 0, 100)).equals(weird));
    assert.equal((await fs.stat('/srv/new/nested'))?.mode, 0o40750);
    assert.equal((await fs.stat('/srv/new'))?.mode, 0o40755, 'a created parent is a plain 0755 folder');
    assert.equal(await fs.readlink('/srv/new/link'), '../app "target"');
    assert.equal((await fs.stat('/srv/new/link'))?.uid, 1000);
    assert.deepEqual((await fs.list('/etc')).map((e) => e.name), ['app.conf'], 'the old file is gone, no temporary name is left');
  });
  const fsck = e2fsckClean(disk, OFFSET);
  assert.ok(fsck.clean, fsck.output);
  assertNothingLeft(workRoot);
});

test('keep-both puts the restored item beside the existing one as RESTORED_<name>', async (t) => {
  const dir = tempDir(t);
  const disk = await diskWithExt4(dir);
  const { writer } = writerFor(dir, disk);
  const r = await writer.write({ parent: path('/etc'), item: fileItem('app.conf', b('restored\n')), onExisting: 'keep-both' });
  assert.deepEqual(r.target.map(String), ['etc', 'RESTORED_app.conf']);
  assert.equal(r.replaced, false);
  await withImageReader(disk, OFFSET, async (fs) => {
    assert.equal((await fs.read('/etc/app.conf', 0, 100)).toString(), 'old=1\n');
    assert.equal((await fs.read('/etc/RESTORED_app.conf', 0, 100)).toString(), 'restored\n');
  });
});

test('a file too big for the free space fails with NO_SPACE before anything is written', async (t) => {
  const dir = tempDir(t);
  const disk = await diskWithExt4(dir, '8M');
  const { writer, workRoot } = writerFor(dir, disk);
  const before = await guestSnapshot(disk, OFFSET);
  await assert.rejects(writer.write({ parent: path('/home/u/new'), item: fileItem('big', Buffer.alloc(12 * MiB, 1)), onExisting: 'replace' }), code('NO_SPACE'));
  assert.deepEqual(await guestSnapshot(disk, OFFSET), before, 'the guest is as it was (no parent created either)');
  assert.ok(e2fsckClean(disk, OFFSET).clean);
  assertNothingLeft(workRoot);
});

test('replacing a file needs room for both copies: without it the original stays', async (t) => {
  const dir = tempDir(t);
  const disk = await diskWithExt4(dir, '20M', '&& head -c $((9*1024*1024)) /dev/urandom > root/home/u/data');
  const { writer } = writerFor(dir, disk);
  const before = await guestSnapshot(disk, OFFSET);
  await assert.rejects(writer.write({ parent: path('/home/u'), item: fileItem('data', Buffer.alloc(9 * MiB, 7)), onExisting: 'replace' }), code('NO_SPACE'));
  assert.deepEqual(await guestSnapshot(disk, OFFSET), before);
  // With room for both, the replacement goes in.
  await writer.write({ parent: path('/home/u'), item: fileItem('data', Buffer.alloc(2 * MiB, 7)), onExisting: 'replace' });
  await withImageReader(disk, OFFSET, async (fs) => assert.ok((await fs.read('/home/u/data', 0, 4 * MiB)).equals(Buffer.alloc(2 * MiB, 7))));
});

test('a folder cannot be replaced by a file, nor written below a file or a symlink; the guest stays as it was', async (t) => {
  const dir = tempDir(t);
  const disk = await diskWithExt4(dir, '30M', '&& ln -s / root/escape');
  const { writer, workRoot } = writerFor(dir, disk);
  const before = await guestSnapshot(disk, OFFSET);
  const f = fileItem('x', b('x'));
  await assert.rejects(writer.write({ parent: path('/home'), item: fileItem('u', b('x')), onExisting: 'replace' }), code('CONFLICT'));
  await assert.rejects(writer.write({ parent: path('/etc/app.conf'), item: f, onExisting: 'replace' }), code('CONFLICT'));
  // A guest symlink is never followed: `/escape -> /` would otherwise lead to the host's root.
  await assert.rejects(writer.write({ parent: path('/escape/tmp'), item: f, onExisting: 'replace' }), code('CONFLICT'));
  assert.deepEqual(await guestSnapshot(disk, OFFSET), before);
  assertNothingLeft(workRoot);
});

test('a failure half-way through replacing a folder leaves the old folder exactly as it was', async (t) => {
  const dir = tempDir(t);
  const disk = await diskWithExt4(dir, '30M', '&& mkdir -p root/home/u/docs && echo keep > root/home/u/docs/a.txt');
  const { writer, workRoot } = writerFor(dir, disk);
  const before = await guestSnapshot(disk, OFFSET);
  const replacement = dirItem('u', [fileItem('notes', b('restored')), dirItem('docs', [failingFile('b.bin', 4 * MiB)])]);
  await assert.rejects(writer.write({ parent: path('/home'), item: replacement, onExisting: 'replace' }), { code: 'CORRUPT', message: /pack 00c0ffee is corrupt/ });
  assert.deepEqual(await guestSnapshot(disk, OFFSET), before, 'no temporary folder, the old tree untouched');
  const fsck = e2fsckClean(disk, OFFSET);
  assert.ok(fsck.clean, fsck.output);
  assertNothingLeft(workRoot);

  // Among many small files written several at a time, one failing: the others in flight finish, then all goes.
  const many = Array.from({ length: 30 }, (_, i) => (i === 12 ? failingFile('f12', 100_000) : fileItem(`f${i}`, Buffer.alloc(1000 + i, i))));
  await assert.rejects(writer.write({ parent: path('/home'), item: dirItem('u', many), onExisting: 'replace' }), code('CORRUPT'));
  assert.deepEqual(await guestSnapshot(disk, OFFSET), before);

  // Into a missing folder: the parents it created are removed again.
  await assert.rejects(writer.write({ parent: path('/srv/a/b'), item: failingFile('c.bin', 2 * MiB), onExisting: 'replace' }), code('CORRUPT'));
  assert.deepEqual(await guestSnapshot(disk, OFFSET), before);
});

test('a cancelled write stops at the next chunk and leaves the guest as it was', async (t) => {
  const dir = tempDir(t);
  const disk = await diskWithExt4(dir);
  const { writer, workRoot } = writerFor(dir, disk);
  const before = await guestSnapshot(disk, OFFSET);
  const cancel = new AbortController();
  const item: GuestItem = {
    ...(fileItem('app.conf', Buffer.alloc(0)) as Extract<GuestItem, { type: 'file' }>),
    size: 8 * MiB,
    dataRanges: [{ start: 0, end: 8 * MiB }],
    read: async () => Readable.from((function* () {
      for (let i = 0; i < 8; i++) {
        if (i === 3) cancel.abort();
        yield Buffer.alloc(MiB, i);
      }
    })()),
  };
  await assert.rejects(writer.write({ parent: path('/etc'), item, onExisting: 'replace' }, { signal: cancel.signal }), { name: 'AbortError' });
  assert.deepEqual(await guestSnapshot(disk, OFFSET), before);
  assertNothingLeft(workRoot);
});

test('a sparse file keeps its holes: 8 GiB apparent size, 3 MiB of data, on a 30 MiB filesystem', async (t) => {
  const dir = tempDir(t);
  const disk = await diskWithExt4(dir);
  const { writer } = writerFor(dir, disk);
  const pieces = [
    { start: 0, data: Buffer.alloc(MiB, 1) },
    { start: 3 * GiB + 4096, data: Buffer.alloc(MiB, 2) },
    { start: 8 * GiB - MiB, data: Buffer.alloc(MiB, 3) },
  ];
  let read = 0;
  const item: GuestItem = {
    type: 'file',
    name: b('sparse.img'),
    attrs: ATTRS,
    size: 8 * GiB,
    dataRanges: pieces.map((p) => ({ start: p.start, end: p.start + p.data.length })),
    read: async (r) => {
      read += r.end - r.start;
      return Readable.from([pieces.find((p) => p.start === r.start)!.data]);
    },
  };
  const progress: number[] = [];
  await writer.write({ parent: path('/home/u'), item, onExisting: 'replace' }, { onProgress: (done, total) => progress.push(done / total) });
  assert.equal(read, 3 * MiB, 'only the data ranges are read');
  assert.equal(progress.at(-1), 1);
  await withImageReader(disk, OFFSET, async (fs) => {
    const st = (await fs.stat('/home/u/sparse.img'))!;
    assert.equal(st.size, 8 * GiB);
    const allocated = (await fs.allocatedBytes('/home/u/sparse.img'))!;
    assert.ok(allocated < 4 * MiB, `allocated ${allocated} bytes`);
    assert.deepEqual(await fs.dataRanges(st), item.type === 'file' ? item.dataRanges : []);
    for (const p of pieces) assert.ok((await fs.read('/home/u/sparse.img', p.start, MiB)).equals(p.data));
    assert.ok((await fs.read('/home/u/sparse.img', 5 * GiB, 4096)).equals(Buffer.alloc(4096)), 'a hole reads as zeros');
  });
  assert.ok(e2fsckClean(disk, OFFSET).clean);
});

test('names and targets that are no text at all are written byte for byte', async (t) => {
  const dir = tempDir(t);
  const disk = await diskWithExt4(dir);
  const { writer } = writerFor(dir, disk);
  const name = Buffer.from([0x22, 0x21, 0x0a, 0xff, 0xfe, 0x20, 0x5c]);
  const target = Buffer.concat([Buffer.from([0xc3, 0x28, 0x0a]), Buffer.alloc(4092, '"')]);
  await writer.write({ parent: [], item: dirItem(name, [symlinkItem(Buffer.from([0x80]), target), fileItem(Buffer.alloc(255, 0xe9), b('x'))]), onExisting: 'replace' });
  await withImageReader(disk, OFFSET, async (fs) => {
    const d = (await entryAt(fs, [name]))!;
    assert.equal(d.type, 'dir');
    assert.ok((await fs.readlinkBytes((await entryAt(fs, [name, Buffer.from([0x80])]))!)).equals(target));
    assert.equal((await entryBytes(fs, (await entryAt(fs, [name, Buffer.alloc(255, 0xe9)]))!)).toString(), 'x');
  });
});

test('what a killed write left in a folder (a half-built .openem-restore-* item) is removed by the next write there', async (t) => {
  const dir = tempDir(t);
  // The state a SIGKILL mid-write leaves (fuse2fs dies with the server): the original untouched, a temporary beside it.
  const leftovers = '&& head -c 300000 /dev/zero > root/home/.openem-restore-0123456789abcdef && mkdir -p root/home/.openem-restore-fedcba9876543210/x && mkdir root/home/.openem-replaced-00112233445566ff';
  const disk = await diskWithExt4(dir, '30M', leftovers);
  const { writer } = writerFor(dir, disk);
  const log: string[] = [];
  await writer.write({ parent: path('/home'), item: fileItem('new.txt', b('n')), onExisting: 'replace' }, { log: (l) => log.push(l) });
  await withImageReader(disk, OFFSET, async (fs) => {
    assert.deepEqual((await fs.list('/home')).map((e) => e.name).sort(), ['.openem-replaced-00112233445566ff', 'new.txt', 'u']);
  });
  assert.equal(log.filter((l) => /^Removed \/home\/\.openem-restore-/.test(l)).length, 2, log.join('\n'));
  assert.ok(log.some((l) => /Left \/home\/\.openem-replaced-00112233445566ff in place/.test(l)), log.join('\n'));
  assert.ok(e2fsckClean(disk, OFFSET).clean);
});
