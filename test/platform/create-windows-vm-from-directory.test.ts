/**
 * `openem vm create --os windows`: an MBR with one NTFS partition at 1 MiB holding a copy of the folder, or a GPT
 * laid out as Windows does (the Microsoft reserved partition at 1 MiB, then the NTFS basic data partition), checked with ntfs-3g's own tools over a loop device on the partition, and read back by openem's probes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { link, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPartitionTable } from '../../src/disks/partition-table.js';
import { openGuestFilesystems } from '../../src/guestfs/open-guest-filesystem.js';
import { createVmFromDirectory } from '../../src/platform/local/create-vm-from-directory.js';
import { openFreshPlatform, smallGuestTree } from './local-fixtures.js';

const MIB = 1024 * 1024;
const env = { ...process.env, PATH: [process.env.PATH, '/usr/sbin', '/sbin'].join(':') };
const tool = (cmd: string, args: string[]) => execFileSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });

/** A loop device over the partition, detached when the test ends. */
function partitionView(t: { after(fn: () => void): void }, image: string, offset: number, size: number): string {
  const loop = tool('losetup', ['--find', '--show', '--read-only', '--offset', String(offset), '--sizelimit', String(size), image]).toString().trim();
  t.after(() => void tool('losetup', ['-d', loop]));
  return loop;
}

for (const table of ['mbr', 'gpt'] as const) {
  test(`a Windows VM built from a directory has a ${table} with its NTFS partition ${table === 'mbr' ? 'at 1 MiB' : 'after the Microsoft reserved one'}, clean, holding the files`, async (t) => {
    const { platform } = await openFreshPlatform();
    const src = await smallGuestTree();
    await writeFile(join(src, 'home/alice/Ünïcødé name.txt'), 'ü\n');
    await link(join(src, 'home/alice/notes.txt'), join(src, 'etc/notes-hardlink'));
    const vm = await createVmFromDirectory(platform, { name: 'win01', fromDir: src, size: 64 * MIB, platform: 'hyperv', os: 'windows', partitionTable: table });
    assert.equal(vm.guestOs, 'windows');
    const path = await platform.diskImagePath(vm.id, 'disk0');
    assert.ok((await stat(path)).blocks * 512 < 24 * MIB, 'the image stays sparse');

    const disk = await platform.openDisk(vm.id, 'disk0');
    t.after(() => disk.close());
    const parsed = await readPartitionTable(disk);
    assert.equal(parsed.scheme, table);
    const ntfsStart = table === 'mbr' ? MIB : 17 * MIB;
    const ntfsSize = 64 * MIB - ntfsStart - MIB;
    assert.deepEqual(
      parsed.partitions.map((p) => [p.index, p.start, p.size, p.type, p.name]),
      table === 'mbr'
        ? [[1, MIB, 62 * MIB, '0x07', '']]
        : [
            [1, MIB, 16 * MIB, 'e3c9e316-0b5c-4db8-817d-f92df00215ae', 'Microsoft reserved partition'],
            [2, 17 * MIB, ntfsSize, 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7', 'Basic data partition'],
          ],
    );
    if (table === 'gpt') {
      // util-linux partx (libblkid), a second opinion on the GPT.
      assert.deepEqual(tool('partx', ['-g', '-r', '-o', 'NR,START,SECTORS,TYPE', path]).toString().trim().split('\n'), [
        `1 2048 32768 e3c9e316-0b5c-4db8-817d-f92df00215ae`,
        `2 ${ntfsStart / 512} ${ntfsSize / 512} ebd0a0a2-b9e5-4433-87c0-68b6b72699c7`,
      ]);
    }

    const loop = partitionView(t, path, ntfsStart, ntfsSize);
    tool('ntfsfix', ['--no-action', loop]); // exit status 0: the volume checks clean
    assert.deepEqual(tool('ntfsls', ['-f', '-p', '/home/alice', loop]).toString().split('\n').filter((l) => l && l !== '.' && l !== '..').sort(), (await readdir(join(src, 'home/alice'))).sort());
    assert.equal(tool('ntfscat', ['-f', loop, '/home/alice/notes.txt']).toString(), 'hello from alice\n');
    assert.match(tool('ntfsinfo', ['-f', '-F', '/etc/notes-hardlink', loop]).toString(), /Number of Hard Links:\s+2/);

    const found = await openGuestFilesystems(disk);
    assert.deepEqual(found.found.map((f) => [f.kind, f.osKind, f.offset]), [['ntfs', 'Windows', ntfsStart]]);
    const fs = found.found[0].fs;
    assert.equal((await fs.read('/HOME/Alice/Notes.txt', 0, 100)).toString(), 'hello from alice\n');
    assert.equal(await fs.readlink('/etc/hostname-link'), '/etc/hostname');
    assert.equal((await fs.stat('/etc/notes-hardlink'))?.id, (await fs.stat('/home/alice/notes.txt'))?.id);
  });
}

test('a Windows VM whose files do not fit is NO_SPACE and the staged VM is removed', async () => {
  const { platform, dataDir } = await openFreshPlatform();
  const src = await smallGuestTree();
  await writeFile(join(src, 'big.bin'), Buffer.alloc(40 * MIB, 1));
  await assert.rejects(createVmFromDirectory(platform, { name: 'big01', fromDir: src, size: 32 * MIB, os: 'windows' }), { code: 'NO_SPACE' });
  assert.deepEqual(await platform.listVms(), []);
  assert.deepEqual(await readdir(join(dataDir, 'datastores/datastore1')), []);
  assert.equal(tool('losetup', ['-a']).toString().includes('big01'), false, 'no loop device left');
});
