// A VM's name is its folder's name on the datastore, so the image path fuse2fs and e2fsck are given holds
// whatever the VM name rules allow (src/platform/local/vm-name.ts): commas (libfuse splits `-o fsname=<path>`
// on them) and `?` (libext2fs reads `file?offset=N` as an option).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { writeGptWithSinglePartition } from '../../../src/disks/gpt-writer.js';
import { Fuse2fsWriter } from '../../../src/guestfs/ext4/fuse2fs-writer.js';
import { assertValidVmName } from '../../../src/platform/local/vm-name.js';
import { makeImage, sh, tempDir } from '../fixtures/ext4-images.js';
import { fileItem, guestSnapshot, withImageReader } from '../fixtures/guest-snapshot.js';

const MiB = 1024 * 1024;
const OFFSET = MiB;
const b = (s: string) => Buffer.from(s);

/** A GPT disk with ext4 at 1 MiB holding /etc/app.conf, in a VM folder named `vmName`. */
async function diskInVmFolder(dir: string, vmName: string): Promise<string> {
  assertValidVmName(vmName);
  sh(`mkdir -p root/etc root/srv && echo 'old=1' > root/etc/app.conf`, dir);
  const made = join(dir, 'disk.img');
  makeImage(made, join(dir, 'root'), { size: '30M', offset: OFFSET, mkfsArgs: ['-I', '256', '-b', '4096'] });
  await writeGptWithSinglePartition(made, OFFSET + 31 * MiB, OFFSET, 30 * MiB, 'root');
  mkdirSync(join(dir, vmName));
  const disk = join(dir, vmName, 'disk.img');
  renameSync(made, disk);
  return disk;
}

async function writesExactlyTheIntendedFile(t: { after(fn: () => void): void }, vmName: string) {
  const dir = tempDir(t);
  const disk = await diskInVmFolder(dir, vmName);
  const workRoot = join(dir, 'flr-work');
  const before = await guestSnapshot(disk, OFFSET);
  await new Fuse2fsWriter({ imagePath: disk, offset: OFFSET, workRoot }).write({ parent: [b('srv')], item: fileItem('a.txt', b('restored\n')), onExisting: 'replace' });
  const after = await guestSnapshot(disk, OFFSET);
  // Snapshot lines start with the raw path in hex; /srv itself changes (mtime), /srv/a.txt is new.
  const srv = `/${b('srv').toString('hex')}`;
  const file = `${srv}/${b('a.txt').toString('hex')}`;
  const pathOf = (line: string) => line.split(' ')[0];
  assert.deepEqual(after.filter((e) => !before.includes(e)).map(pathOf).sort(), [srv, file].sort(), 'only /srv/a.txt is added (and /srv changed)');
  assert.deepEqual(before.filter((e) => !after.includes(e)).map(pathOf), [srv], 'nothing else changes');
  await withImageReader(disk, OFFSET, async (fs) => {
    assert.equal((await fs.read('/srv/a.txt', 0, 100)).toString(), 'restored\n');
    assert.equal(await fs.stat('/etc/srv'), undefined, 'nothing is written below another folder');
  });
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(workRoot), 'no mount left');
  assert.deepEqual(readdirSync(workRoot), [], 'no work folder left');
}

test('a VM named with fuse mount options after a comma gets exactly the restored file, nowhere else', async (t) => {
  await writesExactlyTheIntendedFile(t, 'x,modules=subdir,subdir=etc');
});

test('a VM whose name holds a "?" gets its file restored and checked by e2fsck', async (t) => {
  await writesExactlyTheIntendedFile(t, 'what?offset=0');
});
