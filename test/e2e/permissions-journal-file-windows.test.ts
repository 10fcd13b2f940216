/**
 * An upgrade from the version that kept PermissionsOnly journals in files (`<data>/permissions-journal/<session>.json`,
 * before a68190b): a journal file that version left when it was killed part-way is taken into the state store at the
 * next start and put back like the store's own, the session says so and the file goes; a file that cannot be read is
 * kept. Over HTTP against a real server; the live volume is read with ntfs-3g, never openem's reader.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { getAttributeSync } from 'fs-xattr';
import { loopDevicesOf, ntfsfixView, setNtfsXattr, withNtfs } from '../guestfs/fixtures/ntfs-oracle.js';
import { startServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, waitFor } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { finishedTask, liveImage, pointIdOf, stoppedSession } from '../services/mounts/flr-fixture.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';
import { logLines } from './vm-restore-fixtures.js';

const cleanup = fileCleanup();
let dataDir: string;
let image: string;
let vm: { id: string; disks: { name: string }[] };
const ACL = 'system.ntfs_acl';
const names = Array.from({ length: 20 }, (_, i) => `Share/doc-${String(i).padStart(2, '0')}.txt`);
const items = ['Share', ...names];
let atBackup: Map<string, string>;

function stateDb<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function descriptors(): Promise<Map<string, string>> {
  return withNtfs(image, { write: false }, (root) => new Map(items.map((p) => [p, getAttributeSync(join(root, p), ACL).toString('hex')])));
}

before(async () => {
  dataDir = tempDir(cleanup, 'openem-perm-file-');
  const src = tempDir(cleanup, 'openem-perm-file-src-');
  mkdirSync(join(src, 'Share'));
  for (const n of names) writeFileSync(join(src, n), `${n}\r\n`);
  await cliOk(dataDir, ['vm', 'create', 'exch01', '--from-dir', src, '--size', '64M', '--platform', 'hyperv', '--os', 'windows']);
  await cliOk(dataDir, ['backup', 'exch01']);
  vm = JSON.parse(await cliOk(dataDir, ['vm', 'show', 'exch01', '--json']));
  image = await liveImage(dataDir, 'exch01');
  atBackup = await descriptors();
});

test('a journal file the previous version left is put back at start, the session says so and the file goes; one that cannot be read is kept', async () => {
  // The live VM's owners changed since the backup (BUILTIN\Users for Administrators).
  await withNtfs(image, { write: true }, (root) => {
    for (const p of items) {
      const sd = Buffer.from(atBackup.get(p)!, 'hex');
      sd.writeUInt32LE(545, sd.readUInt32LE(4) + 12);
      setNtfsXattr(join(root, p), ACL, sd);
    }
  });
  const changed = await descriptors();
  assert.notDeepEqual(changed, atBackup);

  // A PermissionsOnly restore of Share sets the restore point's descriptors ...
  let server = await startServerProcess({ dataDir });
  let sessionHref: string;
  try {
    const c = new EmClient(server.http, 'json');
    await c.logOn();
    const id = await pointIdOf(c, 'exch01');
    const r = await c.request('POST', `${c.base}/api/catalog/vms/exch01/vmRestorePoints/${id}/guestfs/C:/Share?action=restore`, { body: '{"ToOriginalLocation":{"PermissionsOnly":true}}' });
    assert.equal(r.status, 202, r.text);
    sessionHref = findLink(await finishedTask(c, r.body.Href), 'Related', 'RestoreSession')!.Href;
    assert.equal((await stoppedSession(c, sessionHref)).Result, 'Success');
  } finally {
    await server.stop();
  }
  assert.deepEqual(await descriptors(), atBackup, 'the restore set every descriptor');
  // ... and the previous version, killed once it had set them, left its journal of what they replaced, in its format.
  const [{ id: sessionId }] = stateDb((db) => db.prepare('SELECT id FROM restore_sessions').all() as { id: string }[]);
  const journalDir = join(dataDir, 'permissions-journal');
  mkdirSync(journalDir, { mode: 0o700 });
  const journalFile = join(journalDir, `${sessionId}.json`);
  const replaced = items.map((p) => ({ path: p.split('/').map((s) => Buffer.from(s).toString('base64')), old: Buffer.from(changed.get(p)!, 'hex').toString('base64') }));
  writeFileSync(journalFile, JSON.stringify({ sessionId, vmId: vm.id, vmName: 'exch01', diskName: vm.disks[0].name, replaced }), { mode: 0o600 });
  const unreadable = join(journalDir, '00000000-0000-4000-8000-0000000000ff.json');
  writeFileSync(unreadable, '{"sessionId": "00000000-0000-4000-8000-0000000000ff", "replaced": [', { mode: 0o600 });

  server = await startServerProcess({ dataDir });
  try {
    const c = new EmClient(server.http, 'json');
    await c.logOn();
    const href = new URL(sessionHref!);
    const session = await stoppedSession(c, `${c.base}${href.pathname}${href.search}`);
    const log = await waitFor('the put-back to be logged', async () => {
      const lines = await logLines(c, session);
      return lines.some((l) => /put back|putting back/.test(l)) ? lines : undefined;
    }, 300_000, 50);
    assert.ok(log.some((l) => /security descriptors of the 21 item\(s\) this PermissionsOnly restore was replacing were put back as they were before it/.test(l)), log.join('\n'));
  } finally {
    await server.stop();
  }
  assert.equal(existsSync(journalFile), false, 'the journal file is gone');
  assert.equal(existsSync(unreadable), true, 'the file that cannot be read is kept');
  assert.deepEqual(stateDb((db) => db.prepare('SELECT session_id FROM permission_journals').all()), [], 'and no journal is left in the store');
  const now = await descriptors();
  for (const p of items) assert.equal(now.get(p), changed.get(p), `${p} has the descriptor it had before the interrupted restore`);
  const check = await ntfsfixView(image);
  assert.ok(check.clean, check.output);
  await waitFor('no loop device left on the VM disk', async () => loopDevicesOf(image) === '' || undefined, 20_000, 50);
});
