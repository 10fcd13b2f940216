import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, openemDetails, type Format } from '../helpers/em-client.js';
import { backedUpVm, body, entriesOf, mount, pointIdOf } from '../services/mounts/flr-fixture.js';
import { cleanupOf, fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();

let server: ServerProcess;
let src: string;
let flrRoot: string;

before(async () => {
  const dataDir = tempDir(cleanup, 'openem-flr-');
  flrRoot = join(dataDir, 'flr-folders');
  src = await backedUpVm(cleanup, dataDir, 'web01');
  server = await startServerProcess({ dataDir, env: { OPENEM_FLR_ROOT: flrRoot } });
  cleanup.defer(() => server.stop());
});

const MOUNT_BODY = {
  xml: '<?xml version="1.0" encoding="utf-8"?><VmRestorePointMountSpec xmlns="http://www.veeam.com/ent/v1.0"><OsKind>Linux</OsKind></VmRestorePointMountSpec>',
  json: '{"OsKind":"Linux"}',
};

async function client(format: Format) {
  const c = new EmClient(server.http, format);
  await c.logOn();
  return c;
}

for (const format of ['xml', 'json'] as Format[]) {
  test(`a mount finishes its task with a Related link and shows its root, folder and Delete link (${format})`, async (t) => {
    const c = await client(format);
    const id = await pointIdOf(c, 'web01');
    const href = await mount(cleanupOf(t), c, id, MOUNT_BODY);
    assert.match(href, new RegExp(`/api/vmRestorePoints/${id}/mounts/\\d+$`));
    const m = body(c, (await c.get(href)).body, 'VmRestorePointMount');
    assert.equal(m.Type, 'VmRestorePointMount');
    assert.equal(findLink(m, 'Delete')?.Href, href);
    const roots = format === 'xml' ? m.FSRoots.DirectoryEntry : m.FSRoots;
    assert.equal(roots[0].Path, '/');
    // EM's VmRestorePointMount has Links and FSRoots only; the folder is in openem's MountDetails (issue #10 item 3).
    assert.deepEqual(Object.keys(m).filter((k) => !['Type', 'Href', 'Links', 'FSRoots', 'xmlns'].includes(k)), []);
    const details = await openemDetails(c, m, 'MountDetails');
    assert.ok(details.LocalFolder, `FUSE folder is served here: ${details.LocalFolderUnavailable}`);
    const list = await c.get(`${c.base}/api/vmRestorePoints/${id}/mounts`);
    assert.equal(list.status, 200);
    assert.ok(list.text.includes(href));
    assert.equal((await c.request('DELETE', href)).status, 204);
  });

  test(`browsing follows entry links down to a file, and every URL form of a path names the same entry (${format})`, async (t) => {
    const c = await client(format);
    const id = await pointIdOf(c, 'web01');
    const href = await mount(cleanupOf(t), c, id);
    const m = body(c, (await c.get(href)).body, 'VmRestorePointMount');
    const root = format === 'xml' ? m.FSRoots.DirectoryEntry[0] : m.FSRoots[0];
    let r = await c.get(findLink(root, 'Down')!.Href);
    assert.equal(r.status, 200);
    const etc = entriesOf(c, r.body).dirs.find((d) => d.Name === 'etc');
    assert.ok(etc, 'root lists etc');
    r = await c.get(findLink(etc, 'Down')!.Href);
    const nginx = entriesOf(c, r.body).dirs.find((d) => d.Name === 'nginx');
    r = await c.get(findLink(nginx, 'Down')!.Href);
    const conf = entriesOf(c, r.body).files.find((f) => f.Name === 'nginx.conf');
    assert.equal(conf.Path, '/etc/nginx/nginx.conf');
    assert.equal(Number(conf.Size), readFileSync(join(src, 'etc/nginx/nginx.conf')).length);
    assert.match(conf.ModifiedDateUTC, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    for (const rel of ['Download', 'Restore']) assert.ok(findLink(conf, rel), `FileEntry has a ${rel} link`);
    assert.ok(findLink(body(c, r.body, 'FileSystemEntries'), 'Up'), 'the listing links up to its parent folder');
    for (const form of ['etc/nginx/nginx.conf', '/etc/nginx/nginx.conf', '%2Fetc/nginx/nginx.conf', 'C:/etc/nginx/nginx.conf', 'etc/nginx/nginx%2Econf']) {
      const one = await c.get(`${href}/${form}`);
      assert.equal(one.status, 200, form);
      assert.equal(entriesOf(c, one.body).files[0].Path, '/etc/nginx/nginx.conf', form);
    }
    const spaced = await c.get(`${href}/home/ana/my%20docs`);
    const accented = entriesOf(c, spaced.body).files[0];
    assert.equal(accented.Name, 'café résumé.txt');
    const dl = await c.get(findLink(accented, 'Download')!.Href);
    assert.equal(dl.text, 'ça marche\n');
    const paged = await c.get(`${href}/etc/nginx?action=listAll&pageSize=1&page=2`);
    const p = entriesOf(c, paged.body);
    assert.equal(p.files.length + p.dirs.length, 1);
    assert.equal(Number(p.paging.PagesCount), 2);
    const dirsOnly = entriesOf(c, (await c.get(`${href}/etc/nginx?action=listDirs`)).body);
    assert.deepEqual([dirsOnly.files.length, dirsOnly.dirs.length], [0, 1]);
    assert.equal((await c.request('DELETE', href)).status, 204);
  });
}

test('a file downloads byte for byte with Content-Length, and a folder as a tar of the same bytes', async (t) => {
  const c = await client('xml');
  const id = await pointIdOf(c, 'web01');
  const href = await mount(cleanupOf(t), c, id);
  const res = await fetch(`${href}/srv/app/data.bin?action=download`, { headers: { 'X-RestSvcSessionId': c.token! } });
  assert.equal(res.status, 200);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(res.headers.get('content-length'), String(bytes.length));
  assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="data.bin"/);
  assert.ok(bytes.equals(readFileSync(join(src, 'srv/app/data.bin'))));

  const tarRes = await fetch(`${href}/srv/app?action=download`, { headers: { 'X-RestSvcSessionId': c.token! } });
  assert.equal(tarRes.status, 200);
  const files = await untar(Buffer.from(await tarRes.arrayBuffer()));
  assert.ok(files.get('app/data.bin')!.equals(readFileSync(join(src, 'srv/app/data.bin'))));
  assert.equal(files.get('app/static/index.html')!.toString(), '<h1>hello</h1>\n');
  assert.equal(files.get('app/current')!.toString(), '-> static/index.html');
  assert.equal((await c.request('DELETE', href)).status, 204);
});

test('while mounted the guest files are a read-only folder under the FLR root, gone after unmount', async (t) => {
  const c = await client('json');
  const id = await pointIdOf(c, 'web01');
  const href = await mount(cleanupOf(t), c, id);
  const m = await openemDetails(c, (await c.get(href)).body, 'MountDetails');
  assert.equal(m.LocalFolder, join(flrRoot, 'web01'));
  assert.deepEqual((await readdir(m.LocalFolder)).sort(), ['etc', 'home', 'lost+found', 'srv']);
  assert.ok((await readFile(join(m.LocalFolder, 'srv/app/data.bin'))).equals(readFileSync(join(src, 'srv/app/data.bin'))));
  await assert.rejects(readFile(join(m.LocalFolder, 'nope')), { code: 'ENOENT' });
  // Read-only: creating, changing and removing anything is refused, and the file stays as it was.
  const refused = { code: /^(EROFS|EACCES|EPERM|ENOSYS)$/ };
  await assert.rejects(writeFile(join(m.LocalFolder, 'srv/new.txt'), 'x'), refused);
  await assert.rejects(writeFile(join(m.LocalFolder, 'srv/app/data.bin'), 'x'), refused);
  await assert.rejects(mkdir(join(m.LocalFolder, 'srv/newdir')), refused);
  await assert.rejects(unlink(join(m.LocalFolder, 'srv/app/data.bin')), refused);
  await assert.rejects(rename(join(m.LocalFolder, 'srv/app/data.bin'), join(m.LocalFolder, 'srv/moved.bin')), refused);
  assert.ok((await readFile(join(m.LocalFolder, 'srv/app/data.bin'))).equals(readFileSync(join(src, 'srv/app/data.bin'))));
  const srv = await readdir(join(m.LocalFolder, 'srv'));
  for (const name of ['new.txt', 'newdir', 'moved.bin']) assert.ok(!srv.includes(name), `${name} was not created`);
  assert.equal((await c.request('DELETE', href)).status, 204);
  assert.equal((await c.get(href)).status, 404);
  assert.equal((await c.get(`${href}/etc`)).status, 404);
  await assert.rejects(readdir(join(m.LocalFolder, 'etc')), { code: 'ENOENT' });
});

async function untar(data: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = tar.extract();
  ex.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (d: unknown) => chunks.push(d as Buffer));
    stream.on('end', () => {
      out.set(h.name, h.type === 'symlink' ? Buffer.from(`-> ${h.linkname}`) : Buffer.concat(chunks));
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
    Readable.from([data]).pipe(ex as unknown as NodeJS.WritableStream);
  });
  return out;
}
