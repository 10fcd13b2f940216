/**
 * A PermissionsOnly restore whose node dies part-way, taken over by a node still running (issues #12 and #14): two
 * openem servers on one PostgreSQL, one repository and one shared datastores folder. Node A runs a 1,501-item
 * catalog PermissionsOnly restore on a Windows VM and is SIGKILLed once it is setting descriptors; node B, which keeps
 * running, takes A's restore session over when A's heartbeat ends, and puts back every descriptor that restore was
 * replacing from its journal in the shared store, says so in the session and removes the journal. The live volume
 * is read with ntfs-3g (getxattr, ntfsfix), never openem's reader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAttributeSync } from 'fs-xattr';
import pg from 'pg';
import pino from 'pino';
import { removePreviousRunLeftovers } from '../../src/host/previous-run-leftovers.js';
import { loopDevicesOf, ntfsfixView, setNtfsXattr, withNtfs } from '../guestfs/fixtures/ntfs-oracle.js';
import { startServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, waitFor } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { body, finishedTask, liveImage, pointIdOf } from '../services/mounts/flr-fixture.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';
import { startTestPostgres } from '../state/postgres-fixture.js';
import { logLines } from './vm-restore-fixtures.js';

const ACL = 'system.ntfs_acl';
/** Enough files that the restore of their folder is still setting descriptors when the test kills node A. */
const FILES = 1500;
const names = ['Share', ...Array.from({ length: FILES }, (_, i) => `Share/doc-${String(i).padStart(4, '0')}.txt`)];
const PERMISSIONS_ONLY = '<?xml version="1.0" encoding="utf-8"?><FileRestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><ToOriginalLocation><PermissionsOnly>true</PermissionsOnly></ToOriginalLocation></FileRestoreSpec>';

test('a PermissionsOnly restore on a node SIGKILLed part-way is put back by the node that takes its session over', async (t) => {
  const cleanup = cleanupOf(t);
  const postgres = await startTestPostgres();
  cleanup.defer(() => postgres.stop());
  const databaseUrl = await postgres.newDatabaseUrl();
  const env = { OPENEM_DATABASE_URL: databaseUrl, OPENEM_REPOSITORY_URL: join(tempDir(cleanup, 'openem-2np-repo-'), 'repository') };
  // Both nodes see the same VMs: the local platform's datastores in one shared folder (an NFS export in real life).
  const datastores = tempDir(cleanup, 'openem-2np-datastores-');
  const dataDirOf = () => {
    const d = tempDir(cleanup, 'openem-2np-node-');
    writeFileSync(join(d, 'openem.json'), JSON.stringify({ platforms: [{ id: 'local', kind: 'local', dataDir: datastores }] }));
    return d;
  };
  const dataA = dataDirOf();
  const dataB = dataDirOf();
  // A killed node's ntfs-3g leaves a dead mount holding its loop device: detached before the folders go, also when the test failed.
  const detachDeadMountsOfA = () => removePreviousRunLeftovers({ dataDir: dataA, flrRoot: join(dataA, 'flr') }, pino({ level: 'silent' }));
  cleanup.defer(() => detachDeadMountsOfA());

  const src = tempDir(cleanup, 'openem-2np-src-');
  mkdirSync(join(src, 'Share'));
  for (const n of names.slice(1)) writeFileSync(join(src, n), `${n}\r\n`);
  await cliOk(dataA, ['vm', 'create', 'exch01', '--from-dir', src, '--size', '64M', '--platform', 'hyperv', '--os', 'windows'], { env });
  await cliOk(dataA, ['backup', 'exch01'], { env });
  const image = await liveImage(dataA, 'exch01');
  const descriptors = () => withNtfs(image, { write: false }, (root) => new Map(names.map((p) => [p, getAttributeSync(join(root, p), ACL).toString('hex')])));
  const atBackup = await descriptors();
  // Share and every file in it get another owner (BUILTIN\Users for Administrators), as a change in the live VM would.
  await withNtfs(image, { write: true }, (root) => {
    for (const p of names) {
      const sd = Buffer.from(atBackup.get(p)!, 'hex');
      sd.writeUInt32LE(545, sd.readUInt32LE(4) + 12);
      setNtfsXattr(join(root, p), ACL, sd);
    }
  });
  const changed = await descriptors();

  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  cleanup.defer(() => db.end());
  const journals = async () => (await db.query('SELECT complete, entries FROM permission_journals')).rows as { complete: number; entries: number }[];

  const a = await startServerProcess({ dataDir: dataA, env });
  cleanup.defer(() => a.stop());
  const b = await startServerProcess({ dataDir: dataB, env });
  cleanup.defer(() => b.stop());

  let sessionPath: string;
  try {
    const c = new EmClient(a.http, 'xml');
    await c.logOn();
    const id = await pointIdOf(c, 'exch01');
    const r = await c.request('POST', `${c.base}/api/catalog/vms/exch01/vmRestorePoints/${id}/guestfs/C:/Share?action=restore`, { body: PERMISSIONS_ONLY });
    assert.equal(r.status, 202, r.text);
    const task = await finishedTask(c, r.body.Task.Href);
    const href = findLink(task, 'Related', 'RestoreSession')!.Href;
    sessionPath = new URL(href).pathname + new URL(href).search;
    // The journal is complete (in the shared store) before the first descriptor is set; node A is killed once its
    // session shows descriptors being set.
    await waitFor('the journal of the running restore', async () => (await journals()).some((j) => Number(j.complete) === 1) || undefined, 300_000, 5);
    const session = await waitFor('descriptors being set', async () => {
      const s = body(c, (await c.get(href)).body, 'RestoreSession');
      return s.State === 'Stopped' || Number(s.Progress) >= 2 ? s : undefined;
    }, 300_000, 5);
    assert.notEqual(session.State, 'Stopped', 'the restore was still running when node A was killed');
  } finally {
    await a.kill();
  }
  assert.deepEqual((await journals()).map((j) => [Number(j.complete), Number(j.entries)]), [[1, FILES + 1]], 'the killed restore left its journal, every descriptor in it');
  // Node A's host is gone: what its ntfs-3g had written reaches the image once the dead mount lets its loop device go.
  assert.equal((await detachDeadMountsOfA()).detachedMounts.length, 1);
  await waitFor('the dead mount\'s loop device to go', async () => loopDevicesOf(image) === '' || undefined, 30_000, 50);
  const midway = await descriptors();
  const setBeforeKill = names.filter((p) => midway.get(p) === atBackup.get(p)).length;
  t.diagnostic(`descriptors the killed restore had set: ${setBeforeKill} of ${FILES + 1}`);
  assert.ok(setBeforeKill > 0 && setBeforeKill < FILES + 1, `the kill came part-way (${setBeforeKill} set)`);

  // Node B, running all along, takes the session over once A's heartbeat is stale, and puts the descriptors back.
  const c = new EmClient(b.http, 'xml');
  await c.logOn();
  let last = '';
  const log = await waitFor('node B to put the descriptors back', async () => {
    const r = await c.get(`${c.base}${sessionPath!}`);
    last = `${r.status} ${r.text.slice(0, 300)}`;
    if (r.status !== 200) return undefined;
    const s = body(c, r.body, 'RestoreSession');
    if (s.State !== 'Stopped') return undefined;
    const lines = await logLines(c, s);
    return lines.some((l) => /were put back|putting back/.test(l)) ? { s, lines } : undefined;
  }, 300_000, 200).catch((e: Error) => {
    throw new Error(`${e.message}; node B's last answer: ${last}`);
  });
  assert.equal(log.s.Result, 'Failed', JSON.stringify(log.s));
  assert.ok(log.lines.some((l) => /node running this restore stopped.*this node took its work over; the security descriptors of the 1501 item\(s\) this PermissionsOnly restore was replacing were put back as they were before it/.test(l)), log.lines.join('\n'));
  assert.deepEqual(await journals(), [], 'the journal is removed once its descriptors are back');
  assert.match(b.output(), /put back the descriptors of an interrupted PermissionsOnly restore/, 'node B did it');
  await b.stop();
  const now = await descriptors();
  for (const p of names) assert.equal(now.get(p), changed.get(p), `${p} has the descriptor it had before the interrupted restore`);
  const check = await ntfsfixView(image);
  assert.ok(check.clean, check.output);
  await waitFor('no loop device left on the VM disk', async () => loopDevicesOf(image) === '' || undefined, 20_000, 50);
});
