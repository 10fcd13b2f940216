/**
 * The NTFS writer's own rules, checked with ntfs-3g's view of the volume (fixtures/ntfs-oracle.ts): space is checked
 * before anything is written, names ntfs-3g would read as streams are refused before anything is mounted, and a
 * server killed mid-write leaves the original untouched and no loop device, mount or process; the next write there
 * removes the half-built item.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import pino from 'pino';
import { isOpenemError } from '../../../src/errors.js';
import { removePreviousRunLeftovers } from '../../../src/host/previous-run-leftovers.js';
import type { GuestItem } from '../../../src/guestfs/guest-writer.js';
import { Ntfs3gWriter } from '../../../src/guestfs/ntfs/ntfs3g-writer.js';
import { buildNtfsInImage } from '../../../src/platform/local/ntfs-image-builder.js';
import { waitFor } from '../../helpers/em-client.js';
import { cleanupOf, tempDir } from '../../helpers/cleanup.js';
import { writeMbr } from '../fixtures/mbr.js';
import { loopDevicesOf, ntfsfixView, ntfsView, withNtfs } from '../fixtures/ntfs-oracle.js';

const MiB = 1024 * 1024;
const OFFSET = MiB;
const SIZE = 40 * MiB;
const CHILD = fileURLToPath(new URL('./ntfs3g-write-child.ts', import.meta.url));
/** The processes whose command line names `workRoot` (the ntfs-3g of a write under it). */
function helpersUnder(workRoot: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(workRoot);
    } catch {
      return false;
    }
  });
}

const code = (c: string) => (e: unknown) => isOpenemError(e) && e.code === c;

async function volume(t: { after(fn: () => unknown): unknown }) {
  const dir = tempDir(cleanupOf(t), 'openem-ntfs3g-writer-');
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'Users'), { recursive: true });
  writeFileSync(join(tree, 'Users/report.docx'), 'the original\r\n');
  const image = join(dir, 'disk.img');
  closeSync(openSync(image, 'w'));
  truncateSync(image, OFFSET + SIZE + MiB);
  await writeMbr(image, [{ start: OFFSET, size: SIZE, type: 0x07 }]);
  await buildNtfsInImage(image, OFFSET, SIZE, tree, 'test');
  const workRoot = join(dir, 'flr-work');
  return { dir, image, workRoot, writer: new Ntfs3gWriter({ imagePath: image, offset: OFFSET, size: SIZE, workRoot }) };
}

function file(name: string, size: number): GuestItem {
  return { type: 'file', name: Buffer.from(name), attrs: { mtime: new Date() }, size, dataRanges: [{ start: 0, end: size }], read: async (r) => Readable.from([Buffer.alloc(r.end - r.start, 9)]) };
}

test('a file larger than the free space is NO_SPACE before anything is written; the volume is as it was and clean', async (t) => {
  const v = await volume(t);
  const before = await ntfsView(v.image, 'Users');
  await assert.rejects(v.writer.write({ parent: [Buffer.from('Users')], item: file('huge.vhdx', 64 * MiB), onExisting: 'replace' }), code('NO_SPACE'));
  assert.deepEqual(await ntfsView(v.image, 'Users'), before);
  assert.ok((await ntfsfixView(v.image)).clean);
  await waitFor('no loop device left', async () => loopDevicesOf(v.image) === '' || undefined, 20_000, 50);
  assert.deepEqual(readdirSync(v.workRoot), []);
});

test("a name holding ':' (a stream on NTFS) is BAD_REQUEST before the volume is mounted", async (t) => {
  const v = await volume(t);
  const item: GuestItem = { type: 'dir', name: Buffer.from('Ann'), attrs: { mtime: new Date() }, children: [file('report.docx:Zone.Identifier', 10)] };
  await assert.rejects(v.writer.write({ parent: [Buffer.from('Users')], item, onExisting: 'replace' }), code('BAD_REQUEST'));
  assert.equal(existsSync(v.workRoot), false, 'nothing was mounted');
});

test('a server killed mid-write leaves the original untouched and no loop device or ntfs-3g; the next write removes the half-built item', async (t) => {
  const v = await volume(t);
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, v.image, String(OFFSET), String(SIZE), v.workRoot], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('the child to be writing', async () => out.includes('writing') || undefined, 60_000, 50);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  // ntfs-3g dies with its parent (helper-process.ts), leaving a dead mount that still holds the partition view; the
  // next server start detaches dead mounts under the data directory, and the loop device goes with the mount.
  await waitFor('ntfs-3g to die with the server', async () => helpersUnder(v.workRoot).length === 0 || undefined, 30_000, 50);
  const removed = await removePreviousRunLeftovers({ dataDir: v.dir, flrRoot: join(v.dir, 'flr') }, pino({ level: 'silent' }));
  assert.equal(removed.detachedMounts.length, 1, JSON.stringify(removed));
  await waitFor('the loop device to go', async () => loopDevicesOf(v.image) === '' || undefined, 30_000, 50);
  const left = await withNtfs(v.image, { write: false }, (root) => ({
    names: readdirSync(join(root, 'Users')).sort(),
    original: readFileSync(join(root, 'Users/report.docx'), 'utf8'),
  }));
  assert.equal(left.original, 'the original\r\n', 'the original is untouched');
  assert.equal(left.names.length, 2, left.names.join(', '));
  assert.match(left.names[0], /^\.openem-restore-[0-9a-f]{16}$/);

  const log: string[] = [];
  await v.writer.write({ parent: [Buffer.from('Users')], item: file('report.docx', 5000), onExisting: 'replace' }, { log: (l) => log.push(l) });
  assert.ok(log.some((l) => /Removed \/Users\/\.openem-restore-.* left by an interrupted restore/.test(l)), log.join('\n'));
  const after = await withNtfs(v.image, { write: false }, (root) => ({ names: readdirSync(join(root, 'Users')), size: readFileSync(join(root, 'Users/report.docx')).length }));
  assert.deepEqual(after, { names: ['report.docx'], size: 5000 });
  assert.ok((await ntfsfixView(v.image)).clean);
});

test('a volume Windows left hibernated is CONFLICT saying so, before anything is written, and leaves no mount, loop device or folder', async (t) => {
  const v = await volume(t);
  // ntfs-3g refuses a volume whose hiberfil.sys begins with the hibernation signature (exit 14).
  await withNtfs(v.image, { write: true }, (root) => writeFileSync(join(root, 'hiberfil.sys'), Buffer.concat([Buffer.from('HIBR'), Buffer.alloc(4092)])));
  const before = await ntfsView(v.image, 'Users');
  await assert.rejects(
    v.writer.write({ parent: [Buffer.from('Users')], item: file('report.docx', 100), onExisting: 'replace' }),
    (e: unknown) => code('CONFLICT')(e) && /not shut down cleanly by Windows/.test((e as Error).message),
  );
  assert.deepEqual(await ntfsView(v.image, 'Users'), before, 'nothing was written');
  await waitFor('no loop device left', async () => loopDevicesOf(v.image) === '' || undefined, 20_000, 50);
  assert.deepEqual(readdirSync(v.workRoot), [], 'no mount folder left');
});
