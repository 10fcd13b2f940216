/**
 * The GuestWriter contract: what every writer does to a guest filesystem, checked with the filesystem's own tools
 * (the backend's `extract` oracle) against the items written, never with openem's reader. Runs on every backend in
 * GUEST_WRITER_BACKENDS.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { isOpenemError } from '../../../src/errors.js';
import type { GuestAttributes, GuestItem } from '../../../src/guestfs/guest-writer.js';
import { GUEST_WRITER_BACKENDS, type GuestWriterBackend } from './guest-writer-backends.js';

const MiB = 1024 * 1024;
const code = (c: string) => (e: unknown) => isOpenemError(e) && e.code === c;
const b = (s: string) => Buffer.from(s);
const components = (p: string) => p.split('/').filter(Boolean).map(b);
const MTIME = new Date('2021-06-07T08:09:10.000Z');
const attrs = (mode: number, extra: Partial<GuestAttributes> = {}): GuestAttributes => ({ mode, uid: 1000, gid: 1001, mtime: MTIME, ...extra });

function pattern(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A file item; with `holes`, only the ranges given hold data and the rest is written as holes. */
function file(name: string, bytes: Buffer, mode = 0o640, holes?: { start: number; end: number }[]): GuestItem {
  const dataRanges = holes ?? (bytes.length ? [{ start: 0, end: bytes.length }] : []);
  return { type: 'file', name: b(name), attrs: attrs(mode), size: bytes.length, dataRanges, read: async (r) => Readable.from([bytes.subarray(r.start, r.end)]) };
}
const dir = (name: string, children: GuestItem[], mode = 0o750): GuestItem => ({ type: 'dir', name: b(name), attrs: attrs(mode), children });
const link = (name: string, target: string): GuestItem => ({ type: 'symlink', name: b(name), attrs: attrs(0o777), target: b(target) });

/** What the oracle extracted, one line per entry: kind, mode, owner, mtime (s), size and content hash or link target. */
function hostView(root: string, posix: boolean, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const p = `${rel}/${name}`;
    const st = lstatSync(join(root, p));
    const owner = posix ? `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}` : '';
    const mtime = Math.floor(st.mtimeMs / 1000);
    if (st.isSymbolicLink()) out.push(`${p} link ${owner} -> ${readlinkSync(join(root, p))}`);
    else if (st.isDirectory()) out.push(`${p} dir ${owner} ${mtime}`, ...hostView(root, posix, p));
    else out.push(`${p} file ${owner} ${mtime} ${st.size} ${createHash('sha256').update(readFileSync(join(root, p))).digest('hex')}`);
  }
  return out;
}

/** What the items say the oracle must find (same format as hostView). */
function expectedView(items: GuestItem[], posix: boolean, rel = ''): string[] {
  const out: string[] = [];
  for (const item of [...items].sort((x, y) => Buffer.compare(x.name, y.name))) {
    const p = `${rel}/${item.name.toString()}`;
    const owner = (mode: number) => (posix ? `${mode.toString(8)} ${item.attrs.uid}:${item.attrs.gid}` : '');
    const mtime = Math.floor(item.attrs.mtime.getTime() / 1000);
    if (item.type === 'symlink') out.push(`${p} link ${owner(0o777)} -> ${item.target.toString()}`);
    else if (item.type === 'dir') out.push(`${p} dir ${owner(item.attrs.mode!)} ${mtime}`, ...expectedView(item.children, posix, p));
    else out.push(`${p} file ${owner(item.attrs.mode!)} ${mtime} ${item.size} ${SOURCE_HASHES.get(item)}`);
  }
  return out;
}
const SOURCE_HASHES = new Map<GuestItem, string>();
function hashed(item: GuestItem, bytes: Buffer): GuestItem {
  SOURCE_HASHES.set(item, createHash('sha256').update(bytes).digest('hex'));
  return item;
}
function hashedFile(name: string, bytes: Buffer, mode?: number, holes?: { start: number; end: number }[]): GuestItem {
  return hashed(file(name, bytes, mode, holes), bytes);
}

/** The host tree each guest starts from: /etc/app.conf, /home/u/notes, /srv, and /escape -> / and /lnk -> etc. */
function startTree(root: string): void {
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'home/u'), { recursive: true });
  mkdirSync(join(root, 'srv'));
  writeFileSync(join(root, 'etc/app.conf'), 'old=1\n');
  writeFileSync(join(root, 'home/u/notes'), 'mine\n');
  symlinkSync('/', join(root, 'escape'));
  symlinkSync('etc', join(root, 'lnk'));
}

async function guest(t: { after(fn: () => void | Promise<void>): void }, backend: GuestWriterBackend) {
  const scratch = mkdtempSync(join(tmpdir(), 'openem-writer-contract-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const tree = join(scratch, 'tree');
  mkdirSync(tree);
  startTree(tree);
  const fixture = await backend.build(tree, scratch);
  let n = 0;
  const extract = (path: string) => {
    const into = join(scratch, `extract-${++n}`);
    mkdirSync(into);
    fixture.extract(path, into);
    return into;
  };
  return {
    ...fixture,
    /** The oracle's view of one guest entry (and, for a folder, everything below it), named from its own name. */
    item: (path: string) => hostView(extract(path), backend.posix),
    /** The oracle's view of everything in a guest folder, named from inside it. */
    children: (path: string) => {
      const into = extract(path);
      return hostView(path === '/' ? into : join(into, basename(path)), backend.posix);
    },
  };
}

for (const backend of GUEST_WRITER_BACKENDS) {
  describe(`GuestWriter contract: ${backend.name}`, () => {
    test('a new file gets exactly its bytes, mode, owner and mtime; the filesystem checks clean', async (t) => {
      const g = await guest(t, backend);
      const bytes = pattern(MiB + 4321, 1);
      const item = hashedFile('new.bin', bytes, 0o604);
      const r = await g.writer.write({ parent: components('/home/u'), item, onExisting: 'replace' });
      assert.deepEqual([r.target.map(String), r.written, r.replaced, r.createdParents], [['home', 'u', 'new.bin'], 1, false, []]);
      assert.deepEqual(g.item('/home/u/new.bin'), expectedView([item], backend.posix));
      assert.deepEqual(g.children('/home/u').filter((l) => l.startsWith('/notes ')).length, 1, 'the folder keeps what it had');
      const check = g.check();
      assert.ok(check.clean, check.output);
    });

    test('a folder tree is written whole: nested folders, empty and sparse files, links, awkward names', async (t) => {
      const g = await guest(t, backend);
      const sparse = Buffer.alloc(3 * MiB);
      pattern(5000, 2).copy(sparse, 0);
      pattern(7000, 3).copy(sparse, 2 * MiB);
      const tree = dir('app', [
        hashedFile('readme.txt', b('hello\n')),
        hashedFile('empty', Buffer.alloc(0), 0o600),
        hashedFile('sparse.img', sparse, 0o644, [{ start: 0, end: 5000 }, { start: 2 * MiB, end: 2 * MiB + 7000 }]),
        hashedFile('we ird "name" é.txt', b('quoted\n')),
        dir('conf.d', [hashedFile('a.conf', b('a=1\n')), dir('deeper', [hashedFile('z', pattern(70_000, 4))], 0o700)]),
        link('current', 'conf.d/a.conf'),
        link('outside', '/etc/app.conf'),
      ]);
      const r = await g.writer.write({ parent: components('/srv'), item: tree, onExisting: 'replace' });
      assert.equal(r.written, 11);
      assert.deepEqual(g.children('/srv'), expectedView([tree], backend.posix));
      const check = g.check();
      assert.ok(check.clean, check.output);
    });

    test('missing parent folders are created and reported', async (t) => {
      const g = await guest(t, backend);
      const item = hashedFile('x.txt', b('x\n'));
      const r = await g.writer.write({ parent: components('/srv/new/deep'), item, onExisting: 'replace' });
      assert.deepEqual(r.createdParents.map((p) => p.map(String).join('/')), ['srv/new', 'srv/new/deep']);
      const seen = g.children('/srv');
      assert.ok(seen.some((l) => l.startsWith('/new/deep dir')), seen.join('\n'));
      assert.deepEqual(g.item('/srv/new/deep/x.txt'), expectedView([item], backend.posix));
    });

    test('replace puts the restored item in place of the existing one, and leaves nothing else behind', async (t) => {
      const g = await guest(t, backend);
      const item = hashedFile('app.conf', b('new=2\n'.repeat(500)), 0o600);
      const r = await g.writer.write({ parent: components('/etc'), item, onExisting: 'replace' });
      assert.equal(r.replaced, true);
      assert.deepEqual(g.children('/etc'), expectedView([item], backend.posix), 'only the new file is in the folder');
      const folder = dir('u', [hashedFile('other', b('other\n'))]);
      assert.equal((await g.writer.write({ parent: components('/home'), item: folder, onExisting: 'replace' })).replaced, true);
      assert.deepEqual(g.children('/home'), expectedView([folder], backend.posix), 'a folder is replaced whole: the old notes are gone');
    });

    test('keep-both keeps the existing item and puts the restored one beside it as RESTORED_<name>', async (t) => {
      const g = await guest(t, backend);
      const before = g.children('/etc');
      const item = hashedFile('app.conf', b('restored\n'));
      const r = await g.writer.write({ parent: components('/etc'), item, onExisting: 'keep-both' });
      assert.deepEqual([r.target.map(String), r.replaced], [['etc', 'RESTORED_app.conf'], false]);
      const after = g.children('/etc');
      assert.deepEqual(after.filter((l) => l.startsWith('/app.conf ')), before.filter((l) => l.startsWith('/app.conf ')), 'the existing file is untouched');
      const beside = hashedFile('RESTORED_app.conf', b('restored\n'));
      assert.deepEqual(after.filter((l) => l.startsWith('/RESTORED_app.conf ')), expectedView([beside], backend.posix));
    });

    test('a symlink among the parent folders is refused (CONFLICT), whether it leads outside or not, and nothing changes', async (t) => {
      const g = await guest(t, backend);
      const before = g.children('/');
      for (const parent of ['/escape/tmp', '/escape', '/lnk', '/lnk/sub']) {
        await assert.rejects(g.writer.write({ parent: components(parent), item: file('x', b('x')), onExisting: 'replace' }), code('CONFLICT'), parent);
      }
      assert.deepEqual(g.children('/'), before, 'the guest is as it was');
      const check = g.check();
      assert.ok(check.clean, check.output);
    });

    test('a folder is not replaced by a file, nor anything written below a file: CONFLICT, nothing changes', async (t) => {
      const g = await guest(t, backend);
      const before = g.children('/');
      await assert.rejects(g.writer.write({ parent: components('/home'), item: file('u', b('x')), onExisting: 'replace' }), code('CONFLICT'));
      await assert.rejects(g.writer.write({ parent: components('/etc/app.conf'), item: file('x', b('x')), onExisting: 'replace' }), code('CONFLICT'));
      assert.deepEqual(g.children('/'), before);
    });
  });
}
