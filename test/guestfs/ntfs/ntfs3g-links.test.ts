/**
 * Links in a restored NTFS tree, as ntfs-3g sees the live volume afterwards (fixtures/ntfs-oracle.ts): names that
 * share one file record in the restore point share one again (same st_ino, st_nlink counting them); junctions and
 * Windows symlinks are the reparse points they were (same tag and data, byte for byte), not ntfs-3g symlinks; data,
 * streams, flags, times and descriptors as at backup, and the volume checks clean. The restore point is a copy of the image read by
 * openem's reader; the restored folder is deleted from the live volume before it is restored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, linkSync, lstatSync, mkdirSync, openSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageFileSource } from '../../../src/disks/image-file-source.js';
import { PartitionSource } from '../../../src/disks/partition-source.js';
import { NtfsReader } from '../../../src/guestfs/ntfs/ntfs-reader.js';
import { Ntfs3gWriter } from '../../../src/guestfs/ntfs/ntfs3g-writer.js';
import { buildNtfsInImage } from '../../../src/platform/local/ntfs-image-builder.js';
import { planGuestItem } from '../../../src/services/guest-restore/plan-guest-item.js';
import { cleanupOf, tempDir } from '../../helpers/cleanup.js';
import { writeMbr } from '../fixtures/mbr.js';
import { junctionData, ntfsinfoField, setReparseData, symlinkData } from '../fixtures/ntfs-images.js';
import { ntfsfixView, ntfsPartitionOf, ntfsView, ntfsXattr, withNtfs } from '../fixtures/ntfs-oracle.js';
import { ntfsTool } from '../fixtures/ntfs-images.js';

const MiB = 1024 * 1024;
const OFFSET = MiB;
const SIZE = 40 * MiB;

/** A VM disk with one NTFS partition holding `Share/`, changed through ntfs-3g by `arrange`; and a copy of it as the restore point, read by openem. */
async function volumeAndPoint(t: { after(fn: () => unknown): unknown }, arrange: (root: string) => void) {
  const cleanup = cleanupOf(t);
  const dir = tempDir(cleanup, 'openem-ntfs3g-links-');
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'Share/Sub'), { recursive: true });
  writeFileSync(join(tree, 'Share/plain.txt'), 'not linked\r\n');
  const image = join(dir, 'disk.img');
  closeSync(openSync(image, 'w'));
  truncateSync(image, OFFSET + SIZE + MiB);
  await writeMbr(image, [{ start: OFFSET, size: SIZE, type: 0x07 }]);
  await buildNtfsInImage(image, OFFSET, SIZE, tree, 'test');
  await withNtfs(image, { write: true, streams: 'windows' }, arrange);
  const pointImage = join(dir, 'point.img');
  copyFileSync(image, pointImage);
  const source = await ImageFileSource.open(pointImage);
  t.after(() => source.close());
  const fs = await NtfsReader.open(new PartitionSource(source, OFFSET, SIZE));
  const writer = new Ntfs3gWriter({ imagePath: image, offset: OFFSET, size: SIZE, workRoot: join(dir, 'flr-work') });
  return { image, fs, writer };
}

test('names that share one file record in the restore point are restored as hard links of one file, as ntfs-3g counts them', async (t) => {
  const v = await volumeAndPoint(t, (root) => {
    const share = join(root, 'Share');
    writeFileSync(join(share, 'report.docx'), Buffer.alloc(300_000, 7));
    writeFileSync(join(share, 'report.docx:Zone.Identifier'), '[ZoneTransfer]\r\nZoneId=3\r\n');
    linkSync(join(share, 'report.docx'), join(share, 'report (link).docx'));
    linkSync(join(share, 'report.docx'), join(share, 'Sub/report.docx'));
    writeFileSync(join(share, 'Sub/small.txt'), 'small\r\n');
    linkSync(join(share, 'Sub/small.txt'), join(share, 'small again.txt'));
  });
  const atBackup = await ntfsView(v.image, 'Share', { security: true });
  const planned = await planGuestItem(v.fs, (await v.fs.stat('/Share'))!);
  assert.equal(planned.dataBytes, 300_000 + 26 + 7 + 12, 'each linked file counts once');

  await withNtfs(v.image, { write: true }, (root) => rmSync(join(root, 'Share'), { recursive: true }));
  await v.writer.write({ parent: [], item: planned.item, onExisting: 'replace' });

  const inodes = await withNtfs(v.image, { write: false }, (root) => {
    const st = (p: string) => lstatSync(join(root, 'Share', p));
    return {
      report: ['report.docx', 'report (link).docx', 'Sub/report.docx'].map((p) => [st(p).ino, st(p).nlink]),
      small: ['Sub/small.txt', 'small again.txt'].map((p) => [st(p).ino, st(p).nlink]),
      plain: st('plain.txt').nlink,
    };
  });
  const reportIno = inodes.report[0][0];
  assert.deepEqual(inodes.report, [[reportIno, 3], [reportIno, 3], [reportIno, 3]], 'the three names of the report are one file');
  const smallIno = inodes.small[0][0];
  assert.notEqual(smallIno, reportIno);
  assert.deepEqual(inodes.small, [[smallIno, 2], [smallIno, 2]]);
  assert.equal(inodes.plain, 1);
  assert.deepEqual(await ntfsView(v.image, 'Share', { security: true }), atBackup, 'data, streams, flags, times and descriptors as at backup');
  const check = await ntfsfixView(v.image);
  assert.ok(check.clean, check.output);
});

const REPARSE = 'system.ntfs_reparse_data';
const LINKS = ['Junction', 'winlink.txt', 'abs-winlink', 'dirlink'];

test('junctions and Windows symlinks are restored as the reparse points they were, byte for byte, never followed; a junction replaces one', async (t) => {
  const v = await volumeAndPoint(t, (root) => {
    const share = join(root, 'Share');
    writeFileSync(join(share, 'Sub/small.txt'), 'small\r\n');
    mkdirSync(join(share, 'Junction'));
    setReparseData(join(share, 'Junction'), junctionData('C:\\Users'));
    writeFileSync(join(share, 'winlink.txt'), '');
    setReparseData(join(share, 'winlink.txt'), symlinkData('Sub\\small.txt', true));
    // Absolute, to another drive: a target no restore may follow or resolve.
    writeFileSync(join(share, 'abs-winlink'), '');
    setReparseData(join(share, 'abs-winlink'), symlinkData('D:\\elsewhere\\secret', false));
    mkdirSync(join(share, 'dirlink'));
    setReparseData(join(share, 'dirlink'), symlinkData('..\\Share\\Sub', true));
  });
  const reparseOf = () => withNtfs(v.image, { write: false }, (root) => LINKS.map((l) => ntfsXattr(join(root, 'Share', l), REPARSE).toString('hex')));
  const atBackup = { view: await ntfsView(v.image, 'Share', { security: true }), reparse: await reparseOf() };
  assert.deepEqual(atBackup.reparse.map((hex) => hex.slice(0, 8)), ['030000a0', '0c0000a0', '0c0000a0', '0c0000a0'], 'mount point and symlink tags');
  const planned = await planGuestItem(v.fs, (await v.fs.stat('/Share'))!);

  await withNtfs(v.image, { write: true }, (root) => rmSync(join(root, 'Share'), { recursive: true }));
  await v.writer.write({ parent: [], item: planned.item, onExisting: 'replace' });
  assert.deepEqual(await reparseOf(), atBackup.reparse, 'the same reparse tags and data');
  assert.deepEqual(await ntfsView(v.image, 'Share', { security: true }), atBackup.view, 'links, flags, times and descriptors as at backup');
  const { offset, size } = await ntfsPartitionOf(v.image);
  const loop = ntfsTool('losetup', ['--find', '--show', '--read-only', '--offset', String(offset), '--sizelimit', String(size), '--', v.image]).toString().trim();
  try {
    assert.match(ntfsinfoField(loop, '/Share/Junction', 'Reparse tag') ?? '', /0xa0000003 \(mount point\)/);
    assert.match(ntfsinfoField(loop, '/Share/dirlink', 'Reparse tag') ?? '', /0xa000000c \(symlink\)/);
  } finally {
    ntfsTool('losetup', ['-d', loop]);
  }

  // The junction alone, over the one now there.
  const junction = await planGuestItem(v.fs, (await v.fs.stat('/Share/Junction'))!);
  await v.writer.write({ parent: [Buffer.from('Share')], item: junction.item, onExisting: 'replace' });
  assert.deepEqual(await reparseOf(), atBackup.reparse);
  // Share's own times changed with the rename into it; everything in it is as at backup.
  assert.deepEqual((await ntfsView(v.image, 'Share', { security: true })).slice(1), atBackup.view.slice(1));
  const check = await ntfsfixView(v.image);
  assert.ok(check.clean, check.output);
});

test('Interix symlinks (ntfs-3g\'s own) are restored as Interix symlinks with the creation, write and access times they had', async (t) => {
  const v = await volumeAndPoint(t, (root) => {
    const share = join(root, 'Share');
    writeFileSync(join(share, 'Sub/small.txt'), 'small\r\n');
    symlinkSync('Sub/small.txt', join(share, 'ilink'));
    symlinkSync('/elsewhere/é 日本', join(share, 'abs-ilink'));
  });
  const atBackup = await ntfsView(v.image, 'Share', { security: true });
  assert.ok(atBackup.some((l) => l.startsWith('/ilink link -> Sub/small.txt ')), atBackup.join('\n'));
  const planned = await planGuestItem(v.fs, (await v.fs.stat('/Share'))!);

  await withNtfs(v.image, { write: true }, (root) => rmSync(join(root, 'Share'), { recursive: true }));
  await v.writer.write({ parent: [], item: planned.item, onExisting: 'replace' });
  assert.deepEqual(await ntfsView(v.image, 'Share', { security: true }), atBackup, 'the links, their targets, flags, times (creation too) and descriptors as at backup');
  // openem's reader sees them as the Interix symlinks they were: no reparse point, the same targets.
  const source = await ImageFileSource.open(v.image);
  try {
    const live = await NtfsReader.open(new PartitionSource(source, OFFSET, SIZE));
    assert.equal(await live.readlink('/Share/ilink'), 'Sub/small.txt');
    assert.equal(await live.readlink('/Share/abs-ilink'), '/elsewhere/é 日本');
    assert.equal((await live.windowsDetails((await live.stat('/Share/ilink'))!)).reparsePoint, undefined, 'not a reparse point');
  } finally {
    await source.close();
  }
  const check = await ntfsfixView(v.image);
  assert.ok(check.clean, check.output);
});
