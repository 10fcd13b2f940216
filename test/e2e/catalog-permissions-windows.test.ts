/**
 * EM's PermissionsOnly restore through the catalog route on a Windows VM (issue #12), over HTTP against a real
 * server: `POST /api/catalog/vms/{vm}/vmRestorePoints/{ID}/guestfs/C:/…?action=restore` with the PermissionsOnly body
 * puts the restore point's security descriptors back on the live items and changes nothing else. A server SIGKILLed
 * in the middle of one leaves its journal (in the state store, complete before the first descriptor is set); the
 * next start puts back every descriptor that restore was replacing, once it listens, says so in its session, and
 * removes the journal. The live volume is read with ntfs-3g (an ntfs-3g mount and getxattr, ntfsfix), never openem's reader.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { getAttributeSync } from 'fs-xattr';
import pino from 'pino';
import { removePreviousRunLeftovers } from '../../src/host/previous-run-leftovers.js';
import { loopDevicesOf, ntfsfixView, setNtfsXattr, withNtfs } from '../guestfs/fixtures/ntfs-oracle.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, waitFor } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { body, finishedTask, liveImage, pointIdOf, stoppedSession } from '../services/mounts/flr-fixture.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';
import { logLines } from './vm-restore-fixtures.js';

const cleanup = fileCleanup();
let dataDir: string;
let image: string;
const ACL = 'system.ntfs_acl';
/** Enough files that the restore of their folder is still setting descriptors when the test kills the server. */
const FILES = 1500;
const names = Array.from({ length: FILES }, (_, i) => `Share/doc-${String(i).padStart(4, '0')}.txt`);
let atBackup: Map<string, string>;

/** The journals in the server's state store (SQLite in the data directory): complete or not, and how many descriptors each holds. */
function journals(): { complete: number; entries: number; rows: number }[] {
  const db = new Database(join(dataDir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare('SELECT complete, entries, (SELECT count(*) FROM permission_journal_entries e WHERE e.session_id = j.session_id) AS rows FROM permission_journals j')
      .all() as { complete: number; entries: number; rows: number }[];
  } finally {
    db.close();
  }
}

before(async () => {
  dataDir = tempDir(cleanup, 'openem-cat-perm-');
  const src = tempDir(cleanup, 'openem-cat-perm-src-');
  mkdirSync(join(src, 'Share'));
  for (const n of names) writeFileSync(join(src, n), `${n}\r\n`);
  await cliOk(dataDir, ['vm', 'create', 'exch01', '--from-dir', src, '--size', '64M', '--platform', 'hyperv', '--os', 'windows']);
  await cliOk(dataDir, ['backup', 'exch01']);
  image = await liveImage(dataDir, 'exch01');
  atBackup = await descriptors();
  // A killed server's ntfs-3g leaves a dead mount holding its loop device: detached before the folder goes, also when a test failed.
  cleanup.defer(() => detachDeadMounts());
});

/** What a server start does first: dead FUSE mounts under the data directory detached (their loop devices go with them). */
function detachDeadMounts() {
  return removePreviousRunLeftovers({ dataDir, flrRoot: join(dataDir, 'flr') }, pino({ level: 'silent' }));
}

/** Every descriptor of Share and what is in it, hex by path, as ntfs-3g hands them out. */
function descriptors(): Promise<Map<string, string>> {
  return withNtfs(image, { write: false }, (root) => new Map(['Share', ...names].map((p) => [p, getAttributeSync(join(root, p), ACL).toString('hex')])));
}

/** Gives Share and every file in it another owner (BUILTIN\Users for Administrators), as a change in the live VM would. */
async function changeOwners(): Promise<Map<string, string>> {
  await withNtfs(image, { write: true }, (root) => {
    for (const p of ['Share', ...names]) {
      const sd = Buffer.from(atBackup.get(p)!, 'hex');
      const owner = sd.readUInt32LE(4);
      assert.equal(sd.readUInt32LE(owner + 12), 544, 'the owner at backup is BUILTIN\\Administrators');
      sd.writeUInt32LE(545, owner + 12);
      setNtfsXattr(join(root, p), ACL, sd);
    }
  });
  return descriptors();
}

async function logOn(server: ServerProcess, format: 'json' | 'xml') {
  const c = new EmClient(server.http, format);
  await c.logOn();
  return c;
}

const PERMISSIONS_ONLY = {
  json: '{"ToOriginalLocation":{"PermissionsOnly":true}}',
  xml: '<?xml version="1.0" encoding="utf-8"?><FileRestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><ToOriginalLocation><PermissionsOnly>true</PermissionsOnly></ToOriginalLocation></FileRestoreSpec>',
};

test('PermissionsOnly through the catalog route puts back the descriptor of one file and of nothing else', async () => {
  const changed = await changeOwners();
  const server = await startServerProcess({ dataDir });
  try {
    const c = await logOn(server, 'json');
    const id = await pointIdOf(c, 'exch01');
    const r = await c.request('POST', `${c.base}/api/catalog/vms/exch01/vmRestorePoints/${id}/guestfs/C:/Share/doc-0007.txt?action=restore`, { body: PERMISSIONS_ONLY.json });
    assert.equal(r.status, 202, r.text);
    const task = await finishedTask(c, r.body.Href);
    const session = await stoppedSession(c, findLink(task, 'Related', 'RestoreSession')!.Href);
    assert.equal(session.Result, 'Success', JSON.stringify(session));
    assert.ok((await logLines(c, session)).some((l) => /Restored the permissions of \/Share\/doc-0007\.txt: 1 item\(s\) changed/.test(l)), 'the session says what it changed');
  } finally {
    await server.stop();
  }
  const now = await descriptors();
  assert.equal(now.get('Share/doc-0007.txt'), atBackup.get('Share/doc-0007.txt'), 'the file has the restore point\'s descriptor');
  for (const p of ['Share', ...names].filter((p) => p !== 'Share/doc-0007.txt')) assert.equal(now.get(p), changed.get(p), `${p} is left alone`);
  assert.equal(await withNtfs(image, { write: false }, (root) => readFileSync(join(root, 'Share/doc-0007.txt'), 'utf8')), 'Share/doc-0007.txt\r\n');
  assert.deepEqual(journals(), [], 'no journal is left');
});

test('a server SIGKILLed in the middle of a PermissionsOnly folder restore leaves a journal; the next start puts every descriptor back and the session says so', async (t) => {
  const changed = await changeOwners();
  let server = await startServerProcess({ dataDir });
  let sessionHref: string;
  try {
    const c = await logOn(server, 'xml');
    const id = await pointIdOf(c, 'exch01');
    const r = await c.request('POST', `${c.base}/api/catalog/vms/exch01/vmRestorePoints/${id}/guestfs/C:/Share?action=restore`, { body: PERMISSIONS_ONLY.xml });
    assert.equal(r.status, 202, r.text);
    const task = await finishedTask(c, r.body.Task.Href);
    sessionHref = findLink(task, 'Related', 'RestoreSession')!.Href;
    // The journal is complete just before the first descriptor is set; the server is killed once the session
    // shows descriptors being set.
    await waitFor('the journal of the running restore', async () => journals().some((j) => j.complete === 1) || undefined, 300_000, 5);
    const session = await waitFor('descriptors being set', async () => {
      const s = body(c, (await c.get(sessionHref)).body, 'RestoreSession');
      return s.State === 'Stopped' || Number(s.Progress) >= 2 ? s : undefined;
    }, 300_000, 5);
    assert.notEqual(session.State, 'Stopped', 'the restore was still running when the server was killed');
  } finally {
    await server.kill();
  }
  const left = journals();
  assert.equal(left.length, 1, 'the killed restore left its journal');
  assert.deepEqual(left[0], { complete: 1, entries: FILES + 1, rows: FILES + 1 }, 'every descriptor the restore was to replace is recorded');
  // The dead ntfs-3g's writes reach the image once its loop device is let go, as at the next start.
  assert.equal((await detachDeadMounts()).detachedMounts.length, 1);
  await waitFor('the dead mount\'s loop device to go', async () => loopDevicesOf(image) === '' || undefined, 30_000, 50);
  const midway = await descriptors();
  const setBeforeKill = ['Share', ...names].filter((p) => midway.get(p) === atBackup.get(p)).length;
  t.diagnostic(`descriptors the killed restore had set: ${setBeforeKill} of ${FILES + 1}`);
  assert.ok(setBeforeKill > 0 && setBeforeKill < FILES + 1, `the kill came part-way (${setBeforeKill} set)`);

  server = await startServerProcess({ dataDir });
  try {
    const c = await logOn(server, 'xml');
    // The same session, on the new server's port.
    const href = new URL(sessionHref!);
    const session = await stoppedSession(c, `${c.base}${href.pathname}${href.search}`);
    assert.equal(session.Result, 'Failed', JSON.stringify(session));
    // Put back in the background once the server listens: the session says so when it is done.
    const log = await waitFor('the put-back to be logged', async () => {
      const lines = await logLines(c, session);
      return lines.some((l) => /put back|putting back/.test(l)) ? lines : undefined;
    }, 300_000, 50);
    assert.ok(log.some((l) => /security descriptors of the 1501 item\(s\) this PermissionsOnly restore was replacing were put back as they were before it/.test(l)), log.join('\n'));
  } finally {
    await server.stop();
  }
  assert.deepEqual(journals(), [], 'the journal is removed once its descriptors are back');
  const now = await descriptors();
  for (const p of ['Share', ...names]) assert.equal(now.get(p), changed.get(p), `${p} has the descriptor it had before the interrupted restore`);
  const check = await ntfsfixView(image);
  assert.ok(check.clean, check.output);
  await waitFor('no loop device left on the VM disk', async () => loopDevicesOf(image) === '' || undefined, 20_000, 50);
});
