/**
 * Seed 000's catalog restore on a Windows VM of the kvm platform (issue #12, restores into KVM disks): a powered-off
 * libvirt domain whose qcow2 disk holds an NTFS volume is backed up, C:/Share is deleted in the live VM, and
 * `POST /api/catalog/vms/{vm}/vmRestorePoints/{ID}/guestfs/C:/Share?action=restore` over HTTP puts it back through
 * the disk's qemu-storage-daemon FUSE export and ntfs-3g: data, streams, a hard link, a junction, flags, times and
 * descriptors as at backup (ntfs-3g's own view of the exposed disk), the volume clean.
 */
import assert from 'node:assert/strict';
import { closeSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { KvmPlatform } from '../../src/platform/kvm/kvm-platform.js';
import { buildNtfsInImage } from '../../src/platform/local/ntfs-image-builder.js';
import { cliOk } from '../helpers/cli.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';
import { EmClient, findLink } from '../helpers/em-client.js';
import { startServerProcess } from '../helpers/server-process.js';
import { writeMbr } from '../guestfs/fixtures/mbr.js';
import { junctionData, setReparseData } from '../guestfs/fixtures/ntfs-images.js';
import { ntfsfixView, ntfsView, withNtfs } from '../guestfs/fixtures/ntfs-oracle.js';
import { removeEverything, useSharedLibvirt } from '../platform/kvm/private-libvirt.js';
import { body, finishedTask, pointIdOf, stoppedSession } from '../services/mounts/flr-fixture.js';

const libvirt = useSharedLibvirt();
const MIB = 1024 * 1024;
const DISK = 48 * MIB;
const OFFSET = MIB;
const SIZE = 40 * MIB;

test("seed 000's catalog restore of C:/Share into a KVM VM's NTFS disk puts it back as it was at backup", async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const dataDir = tempDir(cleanupOf(t), 'openem-kvm-win-');
  await writeFile(join(dataDir, 'openem.json'), JSON.stringify({ platforms: [{ id: 'kvm', kind: 'kvm', uri: lv.uri }] }));

  // The guest's disk, made as a raw image first: MBR, one NTFS partition, Share with what Windows keeps.
  const scratch = tempDir(cleanupOf(t), 'openem-kvm-win-src-');
  const tree = join(scratch, 'tree');
  mkdirSync(join(tree, 'Share/Sub'), { recursive: true });
  writeFileSync(join(tree, 'Share/plain.txt'), 'plain\r\n');
  const raw = join(scratch, 'disk.raw');
  closeSync(openSync(raw, 'w'));
  truncateSync(raw, DISK);
  await writeMbr(raw, [{ start: OFFSET, size: SIZE, type: 0x07 }]);
  await buildNtfsInImage(raw, OFFSET, SIZE, tree, 'win01');
  await withNtfs(raw, { write: true, streams: 'windows' }, (root) => {
    const share = join(root, 'Share');
    writeFileSync(join(share, 'report.docx'), Buffer.alloc(300_000, 5));
    writeFileSync(join(share, 'report.docx:Zone.Identifier'), '[ZoneTransfer]\r\nZoneId=3\r\n');
    linkSync(join(share, 'report.docx'), join(share, 'Sub/report.docx'));
    mkdirSync(join(share, 'Junction'));
    setReparseData(join(share, 'Junction'), junctionData('C:\\Users'));
  });
  const atBackup = await ntfsView(raw, 'Share', { security: true });

  const platform = await KvmPlatform.open({ uri: lv.uri });
  const staged = await platform.stageNewVm({
    name: 'win01', cpus: 2, memoryMiB: 96, powerState: 'PoweredOff', guestOs: 'windows', platform: 'hyperv', hierarchyRootId: '', datastoreId: '',
    disks: [{ name: 'disk0', size: DISK }],
  });
  const w = await staged.openDiskForWrite('disk0');
  const bytes = readFileSync(raw);
  for (let at = 0; at < DISK; at += BLOCK_SIZE) await w.write(at, bytes.subarray(at, at + BLOCK_SIZE));
  await w.close();
  const vm = await staged.commit();
  await cliOk(dataDir, ['backup', 'win01']);

  /** Runs `fn` on the live disk as the platform exposes it (a raw file over the qcow2 volume). */
  const onLiveDisk = async <T>(fn: (path: string) => Promise<T>): Promise<T> => {
    const exposed = await platform.exposeDisk(vm.id, 'disk0');
    try {
      return await fn(exposed.endpoint.path);
    } finally {
      await exposed.close();
    }
  };
  await onLiveDisk((disk) => withNtfs(disk, { write: true }, (root) => rmSync(join(root, 'Share'), { recursive: true })));

  const server = await startServerProcess({ dataDir });
  try {
    const c = new EmClient(server.http, 'xml');
    await c.logOn();
    const id = await pointIdOf(c, 'win01');
    const r = await c.request('POST', `${c.base}/api/catalog/vms/win01/vmRestorePoints/${id}/guestfs/C:/Share?action=restore`);
    assert.equal(r.status, 202, r.text);
    const task = await finishedTask(c, body(c, r.body, 'Task').Href);
    const session = await stoppedSession(c, findLink(task, 'Related', 'RestoreSession')!.Href);
    assert.equal(session.Result, 'Success', JSON.stringify(session));
  } finally {
    await server.stop();
  }

  await onLiveDisk(async (disk) => {
    assert.deepEqual(await ntfsView(disk, 'Share', { security: true }), atBackup, "the KVM disk's Share is as it was at backup");
    const inodes = await withNtfs(disk, { write: false }, (root) => ['report.docx', 'Sub/report.docx'].map((p) => lstatSync(join(root, 'Share', p)).ino));
    assert.equal(inodes[0], inodes[1], 'the hard link is one file again');
    const check = await ntfsfixView(disk);
    assert.ok(check.clean, check.output);
  });
});
