/**
 * Seed 002 on a Windows VM (issue #12): `openem vm create --os windows` builds exch01 with an NTFS volume, a backup
 * reads it through openem's own NTFS reader, and a mount (OsKind Windows, or no body: Windows is EM's default) shows
 * the volume as C:, browses `C:/Users` case-insensitively and downloads a file and a folder byte for byte.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { ntfsfixView, withNtfs } from '../guestfs/fixtures/ntfs-oracle.js';
import { join } from 'node:path';
import tar from 'tar-stream';
import { Readable } from 'node:stream';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, openemDetails, type Format } from '../helpers/em-client.js';
import { readdir, readFile } from 'node:fs/promises';
import { cliOk } from '../helpers/cli.js';
import { body, entriesOf, finishedTask, liveImage, mount, pointIdOf, stoppedSession } from '../services/mounts/flr-fixture.js';
import { cleanupOf, fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();
let server: ServerProcess;
let src: string;
let dataDir: string;

before(async () => {
  dataDir = tempDir(cleanup, 'openem-flr-win-');
  src = tempDir(cleanup, 'openem-flr-win-src-');
  mkdirSync(join(src, 'Users/Ann/Documents'), { recursive: true });
  writeFileSync(join(src, 'Users/Ann/Documents/quarterly report.docx'), randomBytes(2 * 1024 * 1024 + 77));
  writeFileSync(join(src, 'Users/Ann/Documents/notes – ünïcødé.txt'), 'meeting at 10\r\n');
  mkdirSync(join(src, 'Program Files/Exchange'), { recursive: true });
  writeFileSync(join(src, 'Program Files/Exchange/store.exe'), randomBytes(300_000));
  mkdirSync(join(src, 'Windows/System32'), { recursive: true });
  for (let i = 0; i < 50; i++) writeFileSync(join(src, 'Windows/System32', `lib${i}.dll`), randomBytes(1000 + i));
  await cliOk(dataDir, ['vm', 'create', 'exch01', '--from-dir', src, '--size', '128M', '--platform', 'hyperv', '--os', 'windows']);
  await cliOk(dataDir, ['backup', 'exch01']);
  server = await startServerProcess({ dataDir, env: { OPENEM_FLR_ROOT: join(dataDir, 'flr-folders') } });
  cleanup.defer(() => server.stop());
});

async function client(format: Format) {
  const c = new EmClient(server.http, format);
  await c.logOn();
  return c;
}

async function untar(data: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const ex = tar.extract();
  ex.on('entry', (h, stream, next) => {
    const parts: Buffer[] = [];
    stream.on('data', (d: unknown) => parts.push(d as Buffer));
    stream.on('end', () => {
      if (h.type === 'file') files.set(h.name, Buffer.concat(parts));
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
    Readable.from([data]).pipe(ex);
  });
  return files;
}

const WINDOWS_BODY = { xml: '<?xml version="1.0" encoding="utf-8"?><VmRestorePointMountSpec xmlns="http://www.veeam.com/ent/v1.0"><OsKind>Windows</OsKind></VmRestorePointMountSpec>', json: '{"OsKind":"Windows"}' };

for (const format of ['json', 'xml'] as Format[]) {
  for (const withBody of [true, false]) {
    test(`a Windows mount ${withBody ? 'with OsKind Windows' : 'with no body'} browses C:/Users and downloads a file and a folder byte for byte (${format})`, async (t) => {
      const c = await client(format);
      const id = await pointIdOf(c, 'exch01');
      const href = await mount(cleanupOf(t), c, id, withBody ? WINDOWS_BODY : undefined);
      const m = body(c, (await c.get(href)).body, 'VmRestorePointMount');
      const roots = format === 'xml' ? m.FSRoots.DirectoryEntry : m.FSRoots;
      assert.equal(roots.length, 1, 'one volume');
      assert.ok(findLink(roots[0], 'Down')!.Href.startsWith(`${href}/C:/`), 'the NTFS volume is C:');
      assert.deepEqual([roots[0].Path, roots[0].Name], ['C:\\', 'C:\\'], "the root as EM shows it (em-api.md: FSRoots Path 'C:\\')");

      let r = await c.get(`${href}/C:/Users`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(entriesOf(c, r.body).dirs.map((d) => [d.Name, d.Path]), [['Ann', 'C:\\Users\\Ann']], 'a mount shows Windows paths as C:\\Shares');
      const backslashed = await c.get(`${href}/C:%5CUsers%5CAnn`);
      assert.equal(backslashed.status, 200, 'C:%5CUsers%5CAnn (backslashes URL-encoded) names the same folder');
      assert.deepEqual(entriesOf(c, backslashed.body).dirs.map((d) => d.Path), ['C:\\Users\\Ann\\Documents']);
      r = await c.get(`${href}/C:/users/ANN/documents`);
      assert.equal(r.status, 200, 'Windows names are matched case-insensitively');
      const files = entriesOf(c, r.body).files;
      assert.deepEqual(files.map((f) => f.Name).sort(), ['notes – ünïcødé.txt', 'quarterly report.docx']);
      const report = files.find((f) => f.Name === 'quarterly report.docx');
      const truth = readFileSync(join(src, 'Users/Ann/Documents/quarterly report.docx'));
      assert.equal(Number(report.Size), truth.length);
      const dl = await fetch(findLink(report, 'Download')!.Href, { headers: { 'X-RestSvcSessionId': c.token! } });
      assert.equal(dl.status, 200);
      assert.ok(Buffer.from(await dl.arrayBuffer()).equals(truth), 'the file downloads byte for byte');

      const folder = await fetch(`${href}/C:/Program%20Files?action=download`, { headers: { 'X-RestSvcSessionId': c.token! } });
      assert.equal(folder.status, 200);
      const inTar = await untar(Buffer.from(await folder.arrayBuffer()));
      const exe = [...inTar].find(([name]) => name.endsWith('Exchange/store.exe'));
      assert.ok(exe, `the folder's tar holds its file: ${[...inTar.keys()].join(', ')}`);
      assert.ok(exe[1].equals(readFileSync(join(src, 'Program Files/Exchange/store.exe'))));
      if (format === 'json' && withBody) {
        const details = await openemDetails(c, m, 'MountDetails');
        assert.ok(details.LocalFolder, `the FLR folder is served: ${details.LocalFolderUnavailable}`);
        assert.deepEqual(await readdir(details.LocalFolder), ['C'], 'the folder shows the volume by its drive letter');
        assert.ok((await readFile(join(details.LocalFolder, 'C/Users/Ann/Documents/quarterly report.docx'))).equals(truth), 'and serves its bytes');
        assert.deepEqual((await readdir(join(details.LocalFolder, 'c/users'))), ['Ann'], 'case-insensitively, as Windows');
      }
      r = await c.get(`${href}/C:/Windows/System32`);
      assert.equal(entriesOf(c, r.body).files.length, 50, 'System32 lists every file');
    });
  }
}

test('a mount asked for as Linux on the Windows VM is mounted as the Windows guest it is, and its restore session says so', async (t) => {
  const c = await client('json');
  const id = await pointIdOf(c, 'exch01');
  const href = await mount(cleanupOf(t), c, id, { xml: '', json: '{"OsKind":"Linux"}' });
  const m = (await c.get(href)).body;
  assert.ok(findLink(m.FSRoots[0], 'Down')!.Href.startsWith(`${href}/C:/`), 'the volume is still C:');
  const session = (await c.get(findLink(m, 'Related', 'RestoreSession')!.Href)).body;
  const log = ((await openemDetails(c, session, 'RestoreSessionLog')).Log as { Text: string }[]).map((l) => l.Text).join('\n');
  assert.match(log, /OsKind Linux was requested, but the guest's volumes are Windows; mounted as Windows/);
});

test('the catalog browses C:/Users of the Windows restore point without a mount (seed 000\'s path)', async () => {
  for (const format of ['xml', 'json'] as Format[]) {
    const c = await client(format);
    const id = await pointIdOf(c, 'exch01');
    const users = await c.get(`${c.base}/api/catalog/vms/exch01/vmRestorePoints/${id}/guestfs/C:/Users`);
    assert.equal(users.status, 200, users.text);
    assert.deepEqual(entriesOf(c, users.body).dirs.map((d) => [d.Name, d.Path]), [['Ann', 'C:/Users/Ann']], 'the catalog shows C:/Documents/Invoice1.docx paths (scenario_1_click_restore.md)');
    const backslashed = await c.get(`${c.base}/api/catalog/vms/exch01/vmRestorePoints/${id}/guestfs/C:%5CUsers`);
    assert.equal(backslashed.status, 200, backslashed.text);
    assert.deepEqual(entriesOf(c, backslashed.body).dirs.map((d) => d.Path), ['C:/Users/Ann']);
    const docs = entriesOf(c, (await c.get(`${c.base}/api/catalog/vms/exch01/vmRestorePoints/${id}/guestfs/C:/USERS/ann/Documents`)).body);
    assert.deepEqual(docs.files.map((f) => f.Name).sort(), ['notes – ünïcødé.txt', 'quarterly report.docx']);
  }
});

test('a restore through a Windows mount writes into the live NTFS volume: beside the live file with Overwrite=false, and into the folder Windows would match whatever its case', async (t) => {
  const c = await client('json');
  const id = await pointIdOf(c, 'exch01');
  const image = await liveImage(dataDir, 'exch01');
  const notes = 'notes – ünïcødé.txt';
  await withNtfs(image, { write: true }, (root) => {
    writeFileSync(join(root, 'Users/Ann/Documents', notes), 'changed in the live VM\r\n');
    renameSync(join(root, 'Users/Ann/Documents'), join(root, 'Users/Ann/documents'));
    rmSync(join(root, 'Users/Ann/documents/quarterly report.docx'));
  });
  const href = await mount(cleanupOf(t), c, id);
  const keep = await c.request('POST', `${href}/C:/users/ann/Documents/${encodeURIComponent(notes)}?action=restore`, { body: '{"ToOriginalLocation":{"Overwrite":false}}' });
  assert.equal(keep.status, 202, keep.text);
  let session = await stoppedSession(c, findLink(await finishedTask(c, keep.body.Href), 'Related', 'RestoreSession')!.Href);
  assert.equal(session.Result, 'Success', JSON.stringify(session));
  const report = await c.request('POST', `${href}/C:/Users/Ann/Documents/quarterly%20report.docx?action=restore`, { body: '{"ToOriginalLocation":{"Overwrite":true}}' });
  assert.equal(report.status, 202, report.text);
  session = await stoppedSession(c, findLink(await finishedTask(c, report.body.Href), 'Related', 'RestoreSession')!.Href);
  assert.equal(session.Result, 'Success', JSON.stringify(session));

  await withNtfs(image, { write: false }, async (root) => {
    assert.deepEqual(await readdir(join(root, 'Users/Ann')), ['documents'], 'no second Documents folder beside the live one');
    const docs = join(root, 'Users/Ann/documents');
    assert.deepEqual((await readdir(docs)).sort(), [`RESTORED_${notes}`, notes, 'quarterly report.docx'].sort());
    assert.equal(readFileSync(join(docs, notes), 'utf8'), 'changed in the live VM\r\n', 'the live file is kept');
    assert.ok(readFileSync(join(docs, `RESTORED_${notes}`)).equals(readFileSync(join(src, 'Users/Ann/Documents', notes))));
    assert.ok(readFileSync(join(docs, 'quarterly report.docx')).equals(readFileSync(join(src, 'Users/Ann/Documents/quarterly report.docx'))));
  });
  const check = await ntfsfixView(image);
  assert.ok(check.clean, check.output);
});
