/**
 * EM's PermissionsOnly restore (FileRestoreSpec ToOriginalLocation, issue #12 item 4) through a Windows mount, over
 * HTTP against a real server: the restore point's security descriptor goes back on the existing live file (and on the
 * existing items below a folder), and nothing else changes: data, times, what was added or removed since. What the
 * live volume holds is read with ntfs-3g's own tools (getfattr on an ntfs-3g mount, ntfsfix), never openem's reader.
 * A missing target fails the session and changes nothing; a Linux (ext4) guest is refused with 400.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ntfsfixView, ntfsView, ntfsXattr, setNtfsXattr, withNtfs } from '../guestfs/fixtures/ntfs-oracle.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, type Format } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { backedUpVm, finishedTask, liveImage, mount, pointIdOf, stoppedSession } from '../services/mounts/flr-fixture.js';
import { cleanupOf, fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();
let server: ServerProcess;
let dataDir: string;
let image: string;
/** Security descriptors at backup, by path in the volume. */
const atBackup = new Map<string, Buffer>();

const REPORT = 'Users/Ann/Documents/quarterly report.docx';
const PRIVATE = 'Users/Ann/Private';
const ACL = 'system.ntfs_acl';
const TIMES = 'system.ntfs_times';

before(async () => {
  dataDir = tempDir(cleanup, 'openem-flr-perm-');
  const src = tempDir(cleanup, 'openem-flr-perm-src-');
  mkdirSync(join(src, 'Users/Ann/Documents'), { recursive: true });
  writeFileSync(join(src, REPORT), randomBytes(200_000));
  writeFileSync(join(src, 'Users/Ann/Documents/gone.txt'), 'deleted in the live VM later\r\n');
  mkdirSync(join(src, PRIVATE), { recursive: true });
  writeFileSync(join(src, PRIVATE, 'a.txt'), 'a at backup\r\n');
  writeFileSync(join(src, PRIVATE, 'b.txt'), 'b at backup\r\n');
  await cliOk(dataDir, ['vm', 'create', 'exch01', '--from-dir', src, '--size', '64M', '--platform', 'hyperv', '--os', 'windows']);
  await cliOk(dataDir, ['backup', 'exch01']);
  await backedUpVm(cleanup, dataDir, 'web01');
  image = await liveImage(dataDir, 'exch01');
  await withNtfs(image, { write: false }, (root) => {
    for (const p of [REPORT, PRIVATE, `${PRIVATE}/a.txt`, `${PRIVATE}/b.txt`]) atBackup.set(p, ntfsXattr(join(root, p), ACL));
  });
  server = await startServerProcess({ dataDir });
  cleanup.defer(() => server.stop());
});

async function client(format: Format) {
  const c = new EmClient(server.http, format);
  await c.logOn();
  return c;
}

/** The descriptor with another owner: BUILTIN\Users (545) for Administrators (544), as a live change would make. */
function otherOwner(sd: Buffer): Buffer {
  const out = Buffer.from(sd);
  const owner = out.readUInt32LE(4);
  assert.equal(out.readUInt32LE(owner + 12), 544, 'the owner at backup is BUILTIN\\Administrators');
  out.writeUInt32LE(545, owner + 12);
  return out;
}

async function restoreSession(c: EmClient, href: string, requestBody: string) {
  const r = await c.request('POST', href, { body: requestBody });
  assert.equal(r.status, 202, r.text);
  const task = await finishedTask(c, c.format === 'xml' ? r.body.Task.Href : r.body.Href);
  return stoppedSession(c, findLink(task, 'Related', 'RestoreSession')!.Href);
}

const PERMISSIONS_ONLY = {
  json: '{"ToOriginalLocation":{"PermissionsOnly":true}}',
  xml: '<?xml version="1.0" encoding="utf-8"?><FileRestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><ToOriginalLocation><PermissionsOnly>true</PermissionsOnly></ToOriginalLocation></FileRestoreSpec>',
};

test('PermissionsOnly on a file puts back only its security descriptor: the changed data and its times stay (JSON)', async (t) => {
  const c = await client('json');
  const id = await pointIdOf(c, 'exch01');
  const changedOwner = otherOwner(atBackup.get(REPORT)!);
  const before = await withNtfs(image, { write: true }, (root) => {
    const p = join(root, REPORT);
    writeFileSync(p, 'changed in the live VM\r\n');
    setNtfsXattr(p, ACL, changedOwner);
    assert.ok(ntfsXattr(p, ACL).equals(changedOwner));
    return { times: ntfsXattr(p, TIMES) };
  });
  const href = await mount(cleanupOf(t), c, id);
  const session = await restoreSession(c, `${href}/C:/users/ANN/documents/quarterly%20report.docx?action=restore`, PERMISSIONS_ONLY.json);
  assert.equal(session.Result, 'Success', JSON.stringify(session));

  await withNtfs(image, { write: false }, (root) => {
    const p = join(root, REPORT);
    assert.ok(ntfsXattr(p, ACL).equals(atBackup.get(REPORT)!), 'the descriptor is the restore point\'s');
    assert.equal(readFileSync(p, 'utf8'), 'changed in the live VM\r\n', 'the data is the live data');
    assert.ok(ntfsXattr(p, TIMES).subarray(0, 24).equals(before.times.subarray(0, 24)), 'creation, write and access times untouched');
  });
  const check = await ntfsfixView(image);
  assert.ok(check.clean, check.output);
  const audit = (await cliOk(dataDir, ['audit', '--json'])).trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(audit.some((a) => a.what === 'restore-file' && a.detail === 'permissions only' && String(a.target).includes('quarterly report.docx')), JSON.stringify(audit.slice(-3)));
});

test('PermissionsOnly on a folder sets the descriptors of the items both have, creates and removes nothing, and matches names as Windows (XML)', async (t) => {
  const c = await client('xml');
  const id = await pointIdOf(c, 'exch01');
  const changedA = otherOwner(atBackup.get(`${PRIVATE}/a.txt`)!);
  let newFileAcl: Buffer;
  await withNtfs(image, { write: true }, (root) => {
    renameSync(join(root, PRIVATE), join(root, 'Users/Ann/private'));
    const dir = join(root, 'Users/Ann/private');
    writeFileSync(join(dir, 'a.txt'), 'a changed live\r\n');
    setNtfsXattr(join(dir, 'a.txt'), ACL, changedA);
    rmSync(join(dir, 'b.txt'));
    writeFileSync(join(dir, 'c.txt'), 'new since backup\r\n');
    newFileAcl = ntfsXattr(join(dir, 'c.txt'), ACL);
  });
  const href = await mount(cleanupOf(t), c, id);
  const session = await restoreSession(c, `${href}/C:/Users/Ann/Private?action=restore`, PERMISSIONS_ONLY.xml);
  assert.equal(session.Result, 'Success', JSON.stringify(session));

  await withNtfs(image, { write: false }, (root) => {
    const dir = join(root, 'Users/Ann/private');
    assert.deepEqual(readdirSync(join(root, 'Users/Ann')).sort(), ['Documents', 'private'], 'no second Private folder beside the live one');
    assert.ok(ntfsXattr(dir, ACL).equals(atBackup.get(PRIVATE)!), "the folder's descriptor is the restore point's");
    assert.ok(ntfsXattr(join(dir, 'a.txt'), ACL).equals(atBackup.get(`${PRIVATE}/a.txt`)!), "a.txt's descriptor is the restore point's");
    assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'a changed live\r\n', "a.txt's data is the live data");
    assert.ok(!existsSync(join(dir, 'b.txt')), 'b.txt, deleted since, is not created');
    assert.equal(readFileSync(join(dir, 'c.txt'), 'utf8'), 'new since backup\r\n', 'c.txt, new since, is kept');
    assert.ok(ntfsXattr(join(dir, 'c.txt'), ACL).equals(newFileAcl), "and its descriptor is left alone");
  });
  const check = await ntfsfixView(image);
  assert.ok(check.clean, check.output);
});

test('PermissionsOnly on an item the live VM no longer has fails the session and changes nothing', async (t) => {
  const c = await client('json');
  const id = await pointIdOf(c, 'exch01');
  await withNtfs(image, { write: true }, (root) => rmSync(join(root, 'Users/Ann/Documents/gone.txt')));
  const before = await ntfsView(image, 'Users', { security: true });
  const href = await mount(cleanupOf(t), c, id);
  const session = await restoreSession(c, `${href}/C:/Users/Ann/Documents/gone.txt?action=restore`, PERMISSIONS_ONLY.json);
  assert.equal(session.Result, 'Failed', JSON.stringify(session));
  assert.match(JSON.stringify(session), /does not exist in the live VM/);
  assert.deepEqual(await ntfsView(image, 'Users', { security: true }), before, 'the live volume is as it was');
  const check = await ntfsfixView(image);
  assert.ok(check.clean, check.output);
});

test('PermissionsOnly on a Linux (ext4) guest is refused with 400 before anything starts, through a mount and the catalog', async (t) => {
  for (const format of ['json', 'xml'] as Format[]) {
    const c = await client(format);
    const id = await pointIdOf(c, 'web01');
    const href = await mount(cleanupOf(t), c, id);
    const r = await c.request('POST', `${href}/etc/hostname?action=restore`, { body: PERMISSIONS_ONLY[format] });
    assert.equal(r.status, 400, r.text);
    const message = format === 'json' ? JSON.parse(r.text).Message : /Message="([^"]*)"/.exec(r.text)?.[1];
    assert.equal(message, 'PermissionsOnly restore is supported for Windows guests only');
    if (format === 'json') assert.equal(JSON.parse(r.text).StatusCode, 400);
    if (format === 'xml') {
      const attribute = await c.request('POST', `${href}/etc/hostname?action=restore`, { body: '<FileRestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><ToOriginalLocation PermissionsOnly="true"/></FileRestoreSpec>' });
      assert.equal(attribute.status, 400, `PermissionsOnly as an attribute, as EM writes Overwrite: ${attribute.text}`);
    }
    const catalog = await c.request('POST', `${c.base}/api/catalog/vms/web01/vmRestorePoints/${id}/guestfs/etc/hostname?action=restore`, { body: PERMISSIONS_ONLY[format] });
    assert.equal(catalog.status, 400, catalog.text);
  }
});
