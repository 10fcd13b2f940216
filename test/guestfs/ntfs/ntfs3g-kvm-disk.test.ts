/**
 * A guest file restore into the NTFS volume of a KVM VM's disk (a powered-off VM: its qcow2 image exposed as a raw
 * file by qemu-storage-daemon's FUSE export, as the kvm platform's exposeDisk does): the NTFS writer mounts the
 * partition through a loop device over that file. What reaches the qcow2 image is checked with ntfs-3g's own view
 * of a raw copy made by qemu-img: data, streams, hard links, a junction, flags, times and descriptors as at backup,
 * and a clean volume. The libvirt side (a KVM domain, the API) is not part of this test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, linkSync, lstatSync, mkdirSync, openSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageFileSource } from '../../../src/disks/image-file-source.js';
import { PartitionSource } from '../../../src/disks/partition-source.js';
import { NtfsReader } from '../../../src/guestfs/ntfs/ntfs-reader.js';
import { Ntfs3gWriter } from '../../../src/guestfs/ntfs/ntfs3g-writer.js';
import { exposeImageAsRawFile } from '../../../src/platform/kvm/fuse-exposed-disk.js';
import { buildNtfsInImage } from '../../../src/platform/local/ntfs-image-builder.js';
import { planGuestItem } from '../../../src/services/guest-restore/plan-guest-item.js';
import { cleanupOf, tempDir } from '../../helpers/cleanup.js';
import { waitFor } from '../../helpers/em-client.js';
import { writeMbr } from '../fixtures/mbr.js';
import { junctionData, setReparseData } from '../fixtures/ntfs-images.js';
import { loopDevicesOf, ntfsfixView, ntfsView, withNtfs } from '../fixtures/ntfs-oracle.js';

const MiB = 1024 * 1024;
const OFFSET = MiB;
const SIZE = 40 * MiB;
const qemuImg = (args: string[]) => execFileSync('qemu-img', args, { stdio: ['ignore', 'pipe', 'pipe'] });

test('a restore into the NTFS volume of a KVM qcow2 disk, exposed through qemu-storage-daemon, writes the tree as it was; the volume is clean', async (t) => {
  const dir = tempDir(cleanupOf(t), 'openem-ntfs-kvm-');
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'Share/Sub'), { recursive: true });
  writeFileSync(join(tree, 'Share/plain.txt'), 'plain\r\n');
  const raw = join(dir, 'disk.raw');
  closeSync(openSync(raw, 'w'));
  truncateSync(raw, OFFSET + SIZE + MiB);
  await writeMbr(raw, [{ start: OFFSET, size: SIZE, type: 0x07 }]);
  await buildNtfsInImage(raw, OFFSET, SIZE, tree, 'test');
  await withNtfs(raw, { write: true, streams: 'windows' }, (root) => {
    const share = join(root, 'Share');
    writeFileSync(join(share, 'report.docx'), Buffer.alloc(200_000, 3));
    writeFileSync(join(share, 'report.docx:Zone.Identifier'), '[ZoneTransfer]\r\nZoneId=3\r\n');
    linkSync(join(share, 'report.docx'), join(share, 'Sub/report.docx'));
    mkdirSync(join(share, 'Junction'));
    setReparseData(join(share, 'Junction'), junctionData('C:\\Users'));
  });
  const atBackup = await ntfsView(raw, 'Share', { security: true });
  // The restore point: a copy read by openem's reader.
  const pointImage = join(dir, 'point.raw');
  copyFileSync(raw, pointImage);
  const source = await ImageFileSource.open(pointImage);
  t.after(() => source.close());
  const fs = await NtfsReader.open(new PartitionSource(source, OFFSET, SIZE));
  const planned = await planGuestItem(fs, (await fs.stat('/Share'))!);

  // The live VM's disk: the volume with Share deleted, as qcow2.
  await withNtfs(raw, { write: true }, (root) => rmSync(join(root, 'Share'), { recursive: true }));
  const qcow2 = join(dir, 'disk0.qcow2');
  qemuImg(['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  const exposed = await exposeImageAsRawFile(qcow2, 'qcow2', statSync(raw).size);
  try {
    const writer = new Ntfs3gWriter({ imagePath: exposed.endpoint.path, offset: OFFSET, size: SIZE, workRoot: join(dir, 'flr-work') });
    const log: string[] = [];
    await writer.write({ parent: [], item: planned.item, onExisting: 'replace' }, { log: (l) => log.push(l) });
    assert.ok(log.includes('ntfsfix --no-action reports the NTFS volume clean'), log.join('\n'));
    await waitFor('no loop device left on the exposed disk', async () => loopDevicesOf(exposed.endpoint.path) === '' || undefined, 20_000, 50);
  } finally {
    await exposed.close();
  }

  const after = join(dir, 'after.raw');
  qemuImg(['convert', '-f', 'qcow2', '-O', 'raw', qcow2, after]);
  assert.deepEqual(await ntfsView(after, 'Share', { security: true }), atBackup, 'the qcow2 image holds Share as it was at backup');
  const inodes = await withNtfs(after, { write: false }, (root) => ['report.docx', 'Sub/report.docx'].map((p) => lstatSync(join(root, 'Share', p)).ino));
  assert.equal(inodes[0], inodes[1], 'the hard link is one file again');
  const check = await ntfsfixView(after);
  assert.ok(check.clean, check.output);
});
