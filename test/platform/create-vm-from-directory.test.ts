import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createVmFromDirectory } from '../../src/platform/local/create-vm-from-directory.js';
import { findTool } from '../../src/platform/local/external-tool.js';
import { readPartitionTable, GPT_TYPE_LINUX_FILESYSTEM } from '../../src/disks/partition-table.js';
import { openFreshPlatform, smallGuestTree } from './local-fixtures.js';

const run = promisify(execFile);
const MIB = 1024 * 1024;

async function tool(name: string): Promise<string> {
  const path = await findTool(name);
  assert.ok(path, `${name} must be installed for this test`);
  return path;
}

test('a VM built from a directory has a GPT with one Linux partition at 1 MiB holding a clean ext4 with the files', async () => {
  const { platform } = await openFreshPlatform();
  const src = await smallGuestTree();
  const vm = await createVmFromDirectory(platform, { name: 'test01', fromDir: src, size: 64 * MIB, platform: 'hyperv' });
  assert.equal(vm.guestOs, 'linux');
  assert.equal(vm.platform, 'hyperv');
  assert.deepEqual(vm.disks.map((d) => [d.name, d.size]), [['disk0', 64 * MIB]]);

  const path = await platform.diskImagePath(vm.id, 'disk0');
  const st = await stat(path);
  assert.equal(st.size, 64 * MIB);
  assert.ok(st.blocks * 512 < 16 * MIB, 'the image stays sparse');

  // Our own parser and util-linux agree on the layout.
  const disk = await platform.openDisk(vm.id, 'disk0');
  const table = await readPartitionTable(disk);
  await disk.close();
  assert.equal(table.scheme, 'gpt');
  assert.deepEqual(
    table.partitions.map((p) => [p.start, p.size, p.type]),
    [[MIB, 62 * MIB, GPT_TYPE_LINUX_FILESYSTEM]],
  );
  const partx = await run(await tool('partx'), ['--show', '-g', '-o', 'NR,START,END,SCHEME', path]);
  assert.equal(partx.stdout.trim().replace(/\s+/g, ' '), `1 2048 ${(63 * MIB) / 512 - 1} gpt`);

  const fs = `${path}?offset=${MIB}`;
  await run(await tool('e2fsck'), ['-fn', fs]); // exit status 0: clean
  const blkid = await run(await tool('blkid'), ['-p', '-O', String(MIB), '-o', 'value', '-s', 'TYPE', path]);
  assert.equal(blkid.stdout.trim(), 'ext4');
  const ls = await run(await tool('debugfs'), ['-R', 'ls -p /etc', fs]);
  assert.match(ls.stdout, /\/hostname\//);
  assert.match(ls.stdout, /\/hostname-link\//);
  const cat = await run(await tool('debugfs'), ['-R', 'cat /home/alice/notes.txt', fs]);
  assert.equal(cat.stdout, 'hello from alice\n');
  const link = await run(await tool('debugfs'), ['-R', 'stat /etc/hostname-link', fs]);
  assert.match(link.stdout, /Fast link dest: "\/etc\/hostname"/);
});

test('building from a missing directory or into a tiny disk is BAD_REQUEST and leaves nothing behind', async () => {
  const { platform } = await openFreshPlatform();
  const src = await smallGuestTree();
  await assert.rejects(
    createVmFromDirectory(platform, { name: 'x', fromDir: '/nonexistent/dir', size: 64 * MIB }),
    { code: 'BAD_REQUEST' },
  );
  await assert.rejects(createVmFromDirectory(platform, { name: 'x', fromDir: src, size: MIB }), { code: 'BAD_REQUEST' });
  assert.deepEqual(await platform.listVms(), []);
});

test('a directory that does not fit is refused and the staged VM is removed', async () => {
  const { platform, dataDir } = await openFreshPlatform();
  const src = await smallGuestTree();
  await writeFile(`${src}/big.bin`, Buffer.alloc(40 * MIB, 1));
  await assert.rejects(createVmFromDirectory(platform, { name: 'big01', fromDir: src, size: 16 * MIB }), { code: 'NO_SPACE', message: /do not fit an ext4 filesystem/ });
  assert.deepEqual(await platform.listVms(), []);
  assert.deepEqual(await readdir(`${dataDir}/datastores/datastore1`), []);
});
