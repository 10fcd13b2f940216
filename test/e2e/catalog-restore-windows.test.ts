/**
 * Seed 000's example as written, on a Windows VM (issue #12 item 4): exch01's NTFS volume holds C:/Users with named
 * streams, a compressed folder, a sparse file, Windows flags and times and a changed security descriptor; after a
 * backup, C:/Users is changed and partly deleted in the live VM, then
 * `POST /api/catalog/vms/exch01/vmRestorePoints/{ID}/guestfs/C:/Users?action=restore` answers 202 with a task whose
 * restore session succeeds, and ntfs-3g's own view of C:/Users is what it was at backup time, the volume clean.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, waitFor } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { body, finishedTask, liveImage, pointIdOf, stoppedSession } from '../services/mounts/flr-fixture.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';
import { loopDevicesOf, ntfsfixView, ntfsView, ntfsXattr, setNtfsXattr, withNtfs } from '../guestfs/fixtures/ntfs-oracle.js';

const cleanup = fileCleanup();
let server: ServerProcess;
let dataDir: string;
let image: string;
let atBackup: string[];
/** The 300 KB stream of the notes, which getfattr cannot list (more than an extended attribute holds), read as `file:stream`. */
let bigStreamAtBackup: Buffer;
const BIG_STREAM = 'Users/Ann/Documents/notes – ünïcødé.txt:big stream';

const MiB = 1024 * 1024;

before(async () => {
  dataDir = tempDir(cleanup, 'openem-win-restore-');
  const src = tempDir(cleanup, 'openem-win-restore-src-');
  mkdirSync(join(src, 'Users/Ann/Documents'), { recursive: true });
  writeFileSync(join(src, 'Users/Ann/Documents/quarterly report.docx'), randomBytes(2 * MiB + 77));
  writeFileSync(join(src, 'Users/Ann/Documents/notes – ünïcødé.txt'), 'meeting at 10\r\n');
  mkdirSync(join(src, 'Users/Bob/Desktop'), { recursive: true });
  writeFileSync(join(src, 'Users/Bob/Desktop/todo.txt'), 'call Ann\r\n');
  mkdirSync(join(src, 'Windows/System32'), { recursive: true });
  writeFileSync(join(src, 'Windows/System32/kernel32.dll'), randomBytes(100_000));
  await cliOk(dataDir, ['vm', 'create', 'exch01', '--from-dir', src, '--size', '96M', '--platform', 'hyperv', '--os', 'windows']);
  image = await liveImage(dataDir, 'exch01');

  // What Windows keeps beside the data, put on the live volume through ntfs-3g before the backup.
  await withNtfs(image, { write: true, streams: 'windows' }, (root) => {
    const docs = join(root, 'Users/Ann/Documents');
    writeFileSync(join(docs, 'quarterly report.docx:Zone.Identifier'), '[ZoneTransfer]\r\nZoneId=3\r\n');
    writeFileSync(join(docs, 'notes – ünïcødé.txt:big stream'), randomBytes(300_000));
    const zipped = join(root, 'Users/Ann/Compressed');
    mkdirSync(zipped);
    setNtfsXattr(zipped, 'system.ntfs_attrib', u32(0x800));
    writeFileSync(join(zipped, 'log.txt'), 'the same line again\r\n'.repeat(20_000));
    // A sparse file: 4 KiB of data 8 MiB in, holes around it.
    const fd = openSync(join(root, 'Users/Ann/disk.vhdx'), 'w');
    writeSync(fd, randomBytes(4096), 0, 4096, 8 * MiB);
    closeSync(fd);
    writeFileSync(join(root, 'Users/Bob/Desktop/desktop.ini'), '[.ShellClassInfo]\r\n');
    setNtfsXattr(join(root, 'Users/Bob/Desktop/desktop.ini'), 'system.ntfs_attrib', u32(0x22 | 0x04));
    // Another owner (BUILTIN\Users instead of Administrators) on the report's security descriptor.
    const report = join(docs, 'quarterly report.docx');
    const sd = ntfsXattr(report, 'system.ntfs_acl');
    const owner = sd.readUInt32LE(4);
    assert.equal(sd.readUInt32LE(owner + 12), 544);
    sd.writeUInt32LE(545, owner + 12);
    setNtfsXattr(report, 'system.ntfs_acl', sd);
    // Creation, write and access times of the past (the fourth, the MFT change time, nobody sets).
    setNtfsXattr(join(root, 'Users/Bob/Desktop/todo.txt'), 'system.ntfs_times', ntfsTimes(['2019-03-04T05:06:07.089Z', '2020-01-02T03:04:05.678Z', '2021-05-06T07:08:09.012Z']));
  });
  await cliOk(dataDir, ['backup', 'exch01']);
  atBackup = await ntfsView(image, 'Users', { security: true });
  bigStreamAtBackup = await withNtfs(image, { write: false, streams: 'windows' }, (root) => readFileSync(join(root, BIG_STREAM)));
  assert.equal(bigStreamAtBackup.length, 300_000);
  server = await startServerProcess({ dataDir });
  cleanup.defer(() => server.stop());
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function ntfsTimes(isoTimes: string[]): Buffer {
  const b = Buffer.alloc(32);
  isoTimes.forEach((iso, i) => b.writeBigUInt64LE((BigInt(Date.parse(iso)) + 11_644_473_600_000n) * 10_000n, i * 8));
  return b;
}

test("seed 000's C:/Users restore puts a changed and partly deleted C:/Users back as it was at backup, streams, flags, times and security included", async () => {
  assert.ok(atBackup.some((l) => l.startsWith('/Ann/Documents/quarterly report.docx file') && l.includes('user.Zone.Identifier=')), atBackup.join('\n'));
  assert.ok(atBackup.some((l) => l.startsWith('/Ann/Compressed/log.txt') && l.includes('attrib=0x20080000')), 'the log is compressed at backup');
  assert.ok(atBackup.some((l) => l.startsWith('/Ann/disk.vhdx') && l.includes('attrib=0x20020000')), 'the disk file is sparse at backup');

  await withNtfs(image, { write: true, streams: 'windows' }, (root) => {
    writeFileSync(join(root, 'Users/Ann/Documents/quarterly report.docx'), 'overwritten by hand');
    rmSync(join(root, 'Users/Bob'), { recursive: true });
    rmSync(join(root, 'Users/Ann/Compressed/log.txt'));
    writeFileSync(join(root, BIG_STREAM), 'stream changed');
    writeFileSync(join(root, 'Users/Ann/new since backup.txt'), 'x');
  });
  assert.notDeepEqual(await ntfsView(image, 'Users', { security: true }), atBackup);

  const c = new EmClient(server.http, 'xml');
  await c.logOn();
  const id = await pointIdOf(c, 'exch01');
  const r = await c.request('POST', `${c.base}/api/catalog/vms/exch01/vmRestorePoints/${id}/guestfs/C:/Users?action=restore`);
  assert.equal(r.status, 202, r.text);
  const accepted = body(c, r.body, 'Task');
  assert.equal(accepted.Operation, 'RestoreFile');
  const task = await finishedTask(c, accepted.Href);
  assert.equal(task.Result.Success, 'true');
  assert.equal(task.Result.Message, 'Restore operations started successfully.');
  const rel = findLink(task, 'Related', 'RestoreSession');
  assert.ok(rel, 'the task links its restore session');
  const session = await stoppedSession(c, rel.Href);
  assert.equal(session.JobType, 'FileLevelRestore');
  assert.equal(session.Result, 'Success', JSON.stringify(session));
  assert.equal(Number(session.Progress), 100);

  assert.deepEqual(await ntfsView(image, 'Users', { security: true }), atBackup, 'ntfs-3g sees C:/Users as it was at backup');
  const bigStream = await withNtfs(image, { write: false, streams: 'windows' }, (root) => readFileSync(join(root, BIG_STREAM)));
  assert.ok(bigStream.equals(bigStreamAtBackup), 'the large named stream is back byte for byte');
  const check = await ntfsfixView(image);
  assert.ok(check.clean, check.output);
  // The kernel removes a self-clearing loop device a moment after its last holder lets go (a deferred work item).
  await waitFor('no loop device left on the VM disk', async () => loopDevicesOf(image) === '' || undefined, 20_000, 50);
  const work = join(dataDir, 'flr-work');
  assert.deepEqual(existsSync(work) ? readdirSync(work) : [], [], 'no mount folder is left');
});
