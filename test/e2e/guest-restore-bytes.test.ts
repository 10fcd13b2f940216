// Issue 9 §1 and §7: guest names and symlink targets never become commands; restores copy them byte for byte,
// keep holes and stage nothing on the host. Driven through the API as a Restore Operator scoped to one VM.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, lstatSync, openSync, closeSync, writeSync, ftruncateSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliOk } from '../helpers/cli.js';
import { EmClient, findLink } from '../helpers/em-client.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { debugfsWrite, entriesOf, finishedTask, liveImage, mount, pointIdOf, ROOT_OFFSET, stoppedSession, assertLiveClean } from '../services/mounts/flr-fixture.js';
import { entryAt, entryBytes, entryNameBytes, withImageReader } from '../guestfs/fixtures/guest-snapshot.js';
import { cleanupOf, fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const QUOTES = Buffer.alloc(255, '"');
/** The issue's symlink target: 3801 `"`, spaces up to byte 4083, then `!id>PWNED #` (4094 bytes in all). */
const TARGET = Buffer.concat([Buffer.alloc(3801, '"'), Buffer.alloc(4083 - 3801, ' '), Buffer.from('!id>PWNED #')]);
/** The innermost name of the deep tree: spaces, then the same payload. */
const DEEP_NAME = Buffer.concat([Buffer.alloc(40, ' '), Buffer.from('!id>PWNED #')]);
const DEPTH = 16;
const SPARSE_PIECES = [0, 3 * GiB + 4096, 8 * GiB - MiB].map((start, i) => ({ start, data: Buffer.alloc(MiB, i + 1) }));

let server: ServerProcess;
let dataDir: string;

/** `/<255 quotes>/s -> TARGET`, and `/deep/<255 quotes> x 16/<DEEP_NAME>` (deeper than PATH_MAX on the host). */
function writeQuotesTree(dir: string): void {
  mkdirSync(join(dir, QUOTES.toString()));
  symlinkSync(TARGET, Buffer.from(`${dir}/${QUOTES}/s`));
  mkdirSync(join(dir, 'deep'));
  // The host path of the innermost file is over 4096 bytes: build it one folder at a time, from inside.
  const cwd = process.cwd();
  try {
    process.chdir(join(dir, 'deep'));
    for (let i = 0; i < DEPTH; i++) {
      mkdirSync(QUOTES);
      process.chdir(QUOTES.toString());
    }
    writeFileSync(DEEP_NAME, 'deep inside\n');
  } finally {
    process.chdir(cwd);
  }
}

function writeSparseTree(dir: string): void {
  const fd = openSync(join(dir, 'sparse.img'), 'w');
  try {
    for (const p of SPARSE_PIECES) writeSync(fd, p.data, 0, p.data.length, p.start);
    ftruncateSync(fd, 8 * GiB);
  } finally {
    closeSync(fd);
  }
  writeFileSync(join(dir, 'hello'), 'hi\n');
}

/** Bytes allocated on the host below `dir` (st_blocks), the real disk use of sparse images. */
function allocatedBelow(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const st = lstatSync(join(dir, name));
    n += st.blocks * 512;
    if (st.isDirectory()) n += allocatedBelow(join(dir, name));
  }
  return n;
}

/** Every file named PWNED below `dir` (not following symlinks). */
function pwnedFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir, { encoding: 'buffer' })) {
    const p = Buffer.concat([Buffer.from(dir + '/'), name]);
    if (name.toString() === 'PWNED') out.push(p.toString());
    try {
      if (lstatSync(p).isDirectory()) out.push(...pwnedFiles(p.toString()));
    } catch {
      // a path too long for the host (the deep guest tree is never on the host, only in images)
    }
  }
  return out;
}

before(async () => {
  dataDir = tempDir(cleanup, 'openem-guest-bytes-');
  for (const [name, size, build] of [['quotes01', '1G', writeQuotesTree], ['sparse01', '64M', writeSparseTree]] as const) {
    const src = mkdtempSync(join(tmpdir(), `openem-src-${name}-`));
    chmodSync(src, 0o755);
    build(src);
    await cliOk(dataDir, ['vm', 'create', name, '--from-dir', src, '--size', size]);
    await cliOk(dataDir, ['backup', name]);
    // GNU rm walks with openat, so it removes a tree deeper than PATH_MAX (fs.rmSync cannot).
    spawnSync('rm', ['-rf', '--', src]);
  }
  await cliOk(dataDir, ['user', 'add', 'olivia', '--password-stdin', '--role', 'restore-operator', '--scope', 'vm:quotes01'], { input: 'Olivia-pass-1\n' });
  await cliOk(dataDir, ['user', 'add', 'sam', '--password-stdin', '--role', 'restore-operator', '--scope', 'vm:sparse01'], { input: 'Sam-pass-1\n' });
  assert.deepEqual([...pwnedFiles(process.cwd()), ...pwnedFiles(dataDir)], [], 'no PWNED file before the tests');
  server = await startServerProcess({ dataDir });
  cleanup.defer(() => server.stop());
});

async function operator(user: string, password: string): Promise<EmClient> {
  const c = new EmClient(server.http, 'json');
  assert.equal((await c.logOn(user, password)).status, 201);
  return c;
}

async function sessionOf(c: EmClient, taskHref: string): Promise<any> {
  const task = await finishedTask(c, taskHref);
  return stoppedSession(c, findLink(task, 'Related', 'RestoreSession')!.Href);
}

function assertNothingRan(): void {
  assert.deepEqual([...pwnedFiles(process.cwd()), ...pwnedFiles(dataDir)], [], 'no command ran: no PWNED file in the server folder or data dir');
}

test('a symlink whose 4094-byte target ends in `!id>PWNED #`, in a folder named by 255 quotes, restores exactly and runs nothing', async () => {
  const c = await operator('olivia', 'Olivia-pass-1');
  const id = await pointIdOf(c, 'quotes01');
  const image = await liveImage(dataDir, 'quotes01');
  const linkPath = [QUOTES, Buffer.from('s')];
  const inodeBefore = await withImageReader(image, ROOT_OFFSET, async (fs) => (await entryAt(fs, linkPath))!.id);
  const url = `${c.base}/api/catalog/vms/quotes01/vmRestorePoints/${id}/guestfs/${encodeURIComponent(QUOTES.toString())}/s?action=restore`;
  const r = await c.request('POST', url);
  assert.equal(r.status, 202, r.text);
  const session = await sessionOf(c, r.body.Href);
  assertNothingRan();
  assert.equal(session.Result, 'Success', JSON.stringify(session));
  await withImageReader(image, ROOT_OFFSET, async (fs) => {
    const link = (await entryAt(fs, linkPath))!;
    assert.equal(link.type, 'symlink');
    assert.notEqual(link.id, inodeBefore, 'the restore wrote a new symlink');
    assert.ok((await fs.readlinkBytes(link)).equals(TARGET), 'the target is byte for byte the backed-up one');
    assert.deepEqual((await fs.listEntry((await entryAt(fs, [QUOTES]))!)).map((e) => entryNameBytes(e).toString()), ['s'], 'no temporary name left');
  });
  await assertLiveClean(image);
});

test('a folder restore through a mount of 16 nested 255-quote folders (a 4 KiB path) restores exactly and runs nothing', async (t) => {
  const c = await operator('olivia', 'Olivia-pass-1');
  const id = await pointIdOf(c, 'quotes01');
  const image = await liveImage(dataDir, 'quotes01');
  const inner = [Buffer.from('deep'), ...Array.from({ length: DEPTH }, () => QUOTES)];
  const inodeBefore = await withImageReader(image, ROOT_OFFSET, async (fs) => (await entryAt(fs, [...inner, DEEP_NAME]))!.id);
  const href = await mount(cleanupOf(t), c, id);
  try {
    const listing = entriesOf(c, (await c.get(`${href}/deep`)).body);
    assert.deepEqual(listing.dirs.map((d) => d.Name), [QUOTES.toString()], 'the mount lists the quotes folder in /deep');
    const r = await c.request('POST', `${href}/deep?action=restore`, { body: '{"ToOriginalLocation":{"Overwrite":true}}' });
    assert.equal(r.status, 202, r.text);
    const session = await sessionOf(c, r.body.Href);
    assertNothingRan();
    assert.equal(session.Result, 'Success', JSON.stringify(session));
  } finally {
    assert.equal((await c.request('DELETE', href)).status, 204);
  }
  await withImageReader(image, ROOT_OFFSET, async (fs) => {
    const names = (await fs.listEntry((await entryAt(fs, inner))!)).map(entryNameBytes);
    assert.deepEqual(names.map((n) => n.toString('hex')), [DEEP_NAME.toString('hex')]);
    const file = (await entryAt(fs, [...inner, DEEP_NAME]))!;
    assert.notEqual(file.id, inodeBefore, 'the folder was written anew and swapped in');
    assert.equal((await entryBytes(fs, file)).toString(), 'deep inside\n');
    assert.deepEqual((await fs.list('/')).map((e) => e.name).filter((n) => n.startsWith('.openem')), [], 'no temporary name left');
  });
  await assertLiveClean(image);
});

test('an 8 GiB sparse file with 3 MiB of data restores sparse, and the host data dir does not grow with it', async () => {
  const c = await operator('sam', 'Sam-pass-1');
  const id = await pointIdOf(c, 'sparse01');
  const image = await liveImage(dataDir, 'sparse01');
  await debugfsWrite(image, ['rm /sparse.img']);
  const hostBefore = allocatedBelow(dataDir);
  const r = await c.request('POST', `${c.base}/api/catalog/vms/sparse01/vmRestorePoints/${id}/guestfs/sparse.img?action=restore`);
  assert.equal(r.status, 202, r.text);
  const session = await sessionOf(c, r.body.Href);
  assert.equal(session.Result, 'Success', JSON.stringify(session));
  const grown = allocatedBelow(dataDir) - hostBefore;
  assert.ok(grown < 32 * MiB, `the data dir grew by ${grown} bytes`);
  assert.ok(!existsSync(join(dataDir, 'flr-work')) || readdirSync(join(dataDir, 'flr-work')).length === 0, 'nothing staged in flr-work');
  await withImageReader(image, ROOT_OFFSET, async (fs) => {
    const st = (await fs.stat('/sparse.img'))!;
    assert.equal(st.size, 8 * GiB);
    const allocated = (await fs.allocatedBytes('/sparse.img'))!;
    assert.ok(allocated < 4 * MiB, `the restored file has ${allocated} bytes allocated`);
    for (const p of SPARSE_PIECES) assert.ok((await fs.read('/sparse.img', p.start, MiB)).equals(p.data));
    assert.ok((await fs.read('/sparse.img', 5 * GiB, 65536)).equals(Buffer.alloc(65536)));
  });
  await assertLiveClean(image);
});
