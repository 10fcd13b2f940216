/**
 * The GuestFilesystem contract: what every backend's reader does, checked against the host tree the filesystem
 * was built from (the oracle is the source, never openem's own reader). Runs on every backend in
 * GUEST_FILESYSTEM_BACKENDS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, writeSync, closeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOpenemError } from '../../../src/errors.js';
import type { GuestEntry, GuestFilesystem } from '../../../src/guestfs/guest-filesystem.js';
import { fileSystemEntriesElement } from '../../../src/api/guest-fs-wire.js';
import type { WireChild, WireElement } from '../../../src/api/wire/wire-node.js';
import { GUEST_FILESYSTEM_BACKENDS } from './guest-filesystem-backends.js';

const MiB = 1024 * 1024;
const code = (c: string) => (e: unknown) => isOpenemError(e) && e.code === c;
const MANY_FILES = 300;
const MANY_DIRS = 20;

/** Deterministic bytes that differ at every offset (so a read at a wrong offset cannot match). */
function pattern(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** The host tree every backend is built from. */
function buildTree(root: string): void {
  mkdirSync(join(root, 'etc/nested'), { recursive: true });
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  mkdirSync(join(root, 'data'));
  mkdirSync(join(root, 'many'));
  writeFileSync(join(root, 'etc/hosts'), 'guest hosts, not the host\n');
  writeFileSync(join(root, 'etc/nested/deep.txt'), 'deep\n');
  writeFileSync(join(root, 'usr/lib/x.so'), 'lib\n');
  writeFileSync(join(root, 'data/small.txt'), 'hello\n');
  writeFileSync(join(root, 'data/empty'), '');
  writeFileSync(join(root, 'data/café résumé.txt'), 'ça marche\n');
  writeFileSync(join(root, 'data/big.bin'), pattern(3 * MiB + 123, 7));
  // Data, a hole, data again: 3 MiB apparent, about 200 KiB of data.
  const fd = openSync(join(root, 'data/sparse.bin'), 'w');
  writeSync(fd, pattern(70_000, 11), 0, 70_000, 0);
  writeSync(fd, pattern(130_005, 13), 0, 130_005, 2 * MiB);
  ftruncateSync(fd, 3 * MiB);
  closeSync(fd);
  symlinkSync('usr/lib', join(root, 'lib'));
  symlinkSync('/usr/lib', join(root, 'abslib'));
  symlinkSync('/etc', join(root, 'abs-etc'));
  symlinkSync('../../../etc', join(root, 'usr/lib/up'));
  symlinkSync('/etc/nested', join(root, 'usr/lib/abs-nested'));
  symlinkSync('loop', join(root, 'loop'));
  symlinkSync('nowhere/at/all', join(root, 'dangling'));
  for (let i = 0; i < MANY_FILES; i++) writeFileSync(join(root, 'many', `f${String(i).padStart(4, '0')}`), `${i}\n`);
  for (let i = 0; i < MANY_DIRS; i++) mkdirSync(join(root, 'many', `d${String(i).padStart(3, '0')}`));
}

async function drain(entries: AsyncIterable<GuestEntry>): Promise<number> {
  let n = 0;
  for await (const _ of entries) n++;
  return n;
}

async function collect(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(parts);
}

/** Every file, folder and link below the host folder, as guest paths. */
function hostPaths(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel))) {
    const p = `${rel}/${name}`;
    out.push(p);
    if (lstatSync(join(root, p)).isDirectory()) out.push(...hostPaths(root, p));
  }
  return out;
}

/** The Name texts of a listing page's FileEntry and DirectoryEntry elements, in order. */
function pageNames(page: WireElement): string[] {
  const names: string[] = [];
  const visit = (c: WireChild) => {
    if (c.kind === 'list') c.items.forEach(visit);
    else if (c.kind === 'generated') for (let i = 0; i < c.count; i++) visit(c.item(i));
    else if (c.kind === 'element') {
      if (c.name === 'FileEntry' || c.name === 'DirectoryEntry') {
        const name = c.children.find((x) => x.kind === 'text' && x.name === 'Name');
        if (name && name.kind === 'text') names.push(String(name.value));
      } else c.children.forEach(visit);
    }
  };
  page.children.forEach(visit);
  return names;
}

for (const backend of GUEST_FILESYSTEM_BACKENDS) {
  describe(`GuestFilesystem contract: ${backend.name}`, () => {
    let scratch: string;
    let tree: string;
    let fs: GuestFilesystem;
    let close: () => Promise<void> = async () => undefined;
    before(async () => {
      scratch = mkdtempSync(join(tmpdir(), `openem-contract-${backend.name}-`));
      tree = join(scratch, 'tree');
      mkdirSync(tree);
      buildTree(tree);
      ({ fs, close } = await backend.build(tree, scratch));
    });
    after(async () => {
      await close();
      rmSync(scratch, { recursive: true, force: true });
    });

    test('stat answers the kind, size and modification time of files, folders and links (a link itself, not its target)', async () => {
      for (const [path, type] of [['/etc/hosts', 'file'], ['/etc', 'dir'], ['/lib', 'symlink'], ['/data/empty', 'file'], ['/dangling', 'symlink']] as const) {
        const e = await fs.stat(path);
        assert.ok(e, path);
        const host = lstatSync(join(tree, path));
        assert.equal(e.type, type, path);
        assert.equal(e.path, path);
        assert.equal(e.name, path.split('/').pop());
        if (type !== 'dir') assert.equal(e.size, host.size, `size of ${path}`);
        assert.equal(Math.floor(e.mtime.getTime() / 1000), Math.floor(host.mtimeMs / 1000), `mtime of ${path}`);
        if (backend.posix) assert.equal(e.mode! & 0o7777, host.mode & 0o7777, `mode of ${path}`);
      }
      const root = await fs.stat('/');
      assert.equal(root?.type, 'dir');
      assert.equal(root?.path, '/');
    });

    test('a missing path: stat answers undefined, everything else is NOT_FOUND', async () => {
      assert.equal(await fs.stat('/nope'), undefined);
      assert.equal(await fs.stat('/etc/nope/deeper'), undefined);
      assert.equal(await fs.stat('/etc/hosts/below'), undefined, 'nothing is below a file');
      assert.equal(await fs.stat('/dangling/x'), undefined, 'a dangling link leads nowhere');
      await assert.rejects(fs.list('/nope'), code('NOT_FOUND'));
      await assert.rejects(fs.read('/nope', 0, 1), code('NOT_FOUND'));
      await assert.rejects(fs.createReadStream('/nope'), code('NOT_FOUND'));
      await assert.rejects(fs.readlink('/nope'), code('NOT_FOUND'));
      await assert.rejects(drain(fs.walk('/nope')), code('NOT_FOUND'));
    });

    test('the wrong kind of entry is BAD_REQUEST: listing a file, reading a folder or a link, readlink of a file', async () => {
      await assert.rejects(fs.list('/etc/hosts'), code('BAD_REQUEST'));
      await assert.rejects(fs.list('/lib'), code('BAD_REQUEST'), 'a link at the end of a path is not followed');
      await assert.rejects(fs.read('/etc', 0, 1), code('BAD_REQUEST'));
      await assert.rejects(fs.read('/lib', 0, 1), code('BAD_REQUEST'));
      await assert.rejects(fs.createReadStream('/etc'), code('BAD_REQUEST'));
      await assert.rejects(fs.readlink('/etc/hosts'), code('BAD_REQUEST'));
      await assert.rejects(fs.read('/etc/hosts', -1, 1), code('BAD_REQUEST'));
      await assert.rejects(fs.read('/etc/hosts', 0, -1), code('BAD_REQUEST'));
      const file = (await fs.stat('/etc/hosts'))!;
      await assert.rejects(fs.listEntry(file), code('BAD_REQUEST'));
      await assert.rejects(fs.readlinkBytes(file), code('BAD_REQUEST'));
      await assert.rejects(fs.dataRanges((await fs.stat('/etc'))!), code('BAD_REQUEST'));
    });

    test('.. and . are resolved inside the guest and never climb above its root', async () => {
      assert.equal((await fs.read('/../../../etc/hosts', 0, 100)).toString(), 'guest hosts, not the host\n');
      assert.equal((await fs.stat('/usr/../..//etc/./hosts'))?.path, '/etc/hosts');
      assert.equal((await fs.stat('/etc/nested/../nested/deep.txt'))?.path, '/etc/nested/deep.txt');
      assert.equal((await fs.stat('/..'))?.path, '/');
    });

    test('links in the middle of a path are followed inside the guest: relative, absolute and climbing targets', async () => {
      assert.equal((await fs.read('/lib/x.so', 0, 10)).toString(), 'lib\n');
      assert.equal((await fs.read('/abslib/x.so', 0, 10)).toString(), 'lib\n', 'an absolute target starts at the guest root');
      assert.equal((await fs.read('/abs-etc/hosts', 0, 100)).toString(), 'guest hosts, not the host\n', "/etc is the guest's, never the host's");
      assert.equal((await fs.read('/usr/lib/abs-nested/deep.txt', 0, 100)).toString(), 'deep\n', 'an absolute target deep in the tree starts at the root too');
      assert.equal((await fs.read('/usr/lib/up/hosts', 0, 100)).toString(), 'guest hosts, not the host\n', 'a target with too many .. stops at the root');
      assert.equal((await fs.stat('/lib/up/nested/deep.txt'))?.type, 'file', 'links through links');
      assert.equal(await fs.readlink('/lib'), readlinkSync(join(tree, 'lib')));
      assert.equal(await fs.readlink('/abs-etc'), '/etc');
      assert.ok((await fs.readlinkBytes((await fs.stat('/usr/lib/up'))!)).equals(Buffer.from('../../../etc')));
    });

    test('a link loop ends with BAD_REQUEST instead of running forever', async () => {
      await assert.rejects(fs.stat('/loop/x'), code('BAD_REQUEST'));
      await assert.rejects(fs.read('/loop/x', 0, 1), code('BAD_REQUEST'));
      assert.equal((await fs.stat('/loop'))?.type, 'symlink', 'the link itself can be looked at');
    });

    test('a folder lists every entry once, with the kind and size the source has; entry and path listings agree', async () => {
      const listed = await fs.list('/many');
      const names = listed.map((e) => e.name).sort();
      assert.deepEqual(names, readdirSync(join(tree, 'many')).sort());
      assert.equal(listed.filter((e) => e.type === 'dir').length, MANY_DIRS);
      for (const e of listed) {
        assert.equal(e.path, `/many/${e.name}`);
        if (e.type === 'file') assert.equal(e.size, lstatSync(join(tree, 'many', e.name)).size);
      }
      const byEntry = await fs.listEntry((await fs.stat('/many'))!);
      assert.deepEqual(byEntry.map((e) => [e.name, e.type, e.size, e.id]).sort(), listed.map((e) => [e.name, e.type, e.size, e.id]).sort());
      assert.equal(new Set(listed.map((e) => e.id)).size, listed.length, 'entry ids are distinct');
      const data = (await fs.list('/data')).map((e) => e.name).sort();
      assert.deepEqual(data, readdirSync(join(tree, 'data')).sort(), 'non-ASCII names come back as written');
    });

    test('a large folder pages through the listing: every entry on exactly one page, folders first', async () => {
      const dir = (await fs.stat('/many'))!;
      const entries = await fs.list('/many');
      const h = { base: 'https://h/api/m', root: 'https://h/api/m/%2F', download: true };
      const seen: string[] = [];
      const pageSize = 37;
      const pages = Math.ceil((MANY_FILES + MANY_DIRS) / pageSize);
      let first: string[] = [];
      for (let page = 1; page <= pages; page++) {
        const names = pageNames(fileSystemEntriesElement(h, dir, entries, { action: 'listAll', pageSize, page }));
        assert.ok(names.length === pageSize || page === pages, `page ${page} is full`);
        if (page === 1) first = names;
        seen.push(...names);
      }
      assert.equal(seen.length, MANY_FILES + MANY_DIRS, 'no entry on two pages');
      assert.deepEqual([...seen].sort(), readdirSync(join(tree, 'many')).sort(), 'every entry on a page');
      assert.equal(first.filter((n) => n.startsWith('d')).length, MANY_DIRS, 'folders come first');
    });

    test('reads at any offset and length return the source bytes; a read past the end is short', async () => {
      const big = readFileSync(join(tree, 'data/big.bin'));
      for (const [offset, length] of [[0, 1], [0, 4096], [4095, 2], [123_457, 65_536], [MiB - 1, 3], [3 * MiB, 123], [3 * MiB + 100, 1000], [big.length, 10], [big.length + 5, 10], [7, 0]]) {
        const ours = await fs.read('/data/big.bin', offset, length);
        assert.ok(ours.equals(big.subarray(offset, offset + length)), `read(${offset}, ${length})`);
      }
      assert.ok((await collect(await fs.createReadStream('/data/big.bin'))).equals(big), 'the whole file streamed');
      assert.ok((await collect(await fs.createReadStream('/data/big.bin', { start: 5000, end: 2 * MiB + 17 }))).equals(big.subarray(5000, 2 * MiB + 17)), 'a range streamed, end exclusive');
      assert.equal((await collect(await fs.createReadStream('/data/empty'))).length, 0);
      assert.equal((await fs.read('/data/café résumé.txt', 0, 100)).toString(), 'ça marche\n');
    });

    test('a sparse file reads as the source does (holes are zeros) and its data ranges cover all its data', async () => {
      const src = readFileSync(join(tree, 'data/sparse.bin'));
      const e = (await fs.stat('/data/sparse.bin'))!;
      assert.equal(e.size, src.length);
      assert.ok((await collect(await fs.createEntryReadStream(e, { start: 0, end: e.size }))).equals(src));
      assert.ok((await fs.read('/data/sparse.bin', MiB, 4096)).equals(Buffer.alloc(4096)), 'inside the hole');
      const ranges = await fs.dataRanges(e);
      let last = 0;
      for (const r of ranges) {
        assert.ok(r.start >= last && r.end > r.start && r.end <= e.size, `ranges are ordered and inside the file: ${JSON.stringify(ranges)}`);
        assert.ok(src.subarray(last, r.start).equals(Buffer.alloc(r.start - last)), 'nothing but zeros between ranges');
        last = r.end;
      }
      assert.ok(src.subarray(last).equals(Buffer.alloc(src.length - last)), 'nothing but zeros after the last range');
      const dataBytes = ranges.reduce((n, r) => n + r.end - r.start, 0);
      assert.ok(dataBytes < MiB, `the hole is not data (${dataBytes} bytes of data)`);
      assert.deepEqual(await fs.dataRanges((await fs.stat('/data/empty'))!), []);
    });

    test('walk yields every entry below a folder once, links as links, never following them', async () => {
      const walked: GuestEntry[] = [];
      for await (const e of fs.walk()) walked.push(e);
      const ours = walked.map((e) => e.path).filter((p) => p !== '/lost+found');
      assert.deepEqual([...ours].sort(), hostPaths(tree).sort());
      for (const e of walked.filter((x) => x.path !== '/lost+found')) {
        const host = lstatSync(join(tree, e.path));
        assert.equal(e.type, host.isSymbolicLink() ? 'symlink' : host.isDirectory() ? 'dir' : 'file', e.path);
      }
      const below: string[] = [];
      for await (const e of fs.walk('/usr')) below.push(e.path);
      assert.deepEqual(below.sort(), ['/usr/lib', '/usr/lib/abs-nested', '/usr/lib/up', '/usr/lib/x.so']);
      await assert.rejects(drain(fs.walk('/etc/hosts')), code('BAD_REQUEST'));
    });
  });
}
