import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createDemoVms, DEMO_VM_NAMES, writeDemoSourceTree } from '../../src/platform/demo/demo-vms.js';
import { findTool } from '../../src/platform/local/external-tool.js';
import { EXCH01_BIG_FOLDER, EXCH01_COMPRESSED_FOLDER } from '../../src/platform/demo/exch01-tree.js';
import { ntfsfixView, ntfsXattr, withNtfs } from '../guestfs/fixtures/ntfs-oracle.js';
import { openFreshPlatform, tempDir } from './local-fixtures.js';

const run = promisify(execFile);

/** path -> sha256 of content, `-> target` for symlinks, `dir` for folders: a tree's fingerprint. */
async function fingerprint(root: string, rel = ''): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of (await readdir(join(root, rel))).sort()) {
    if (rel === '' && name === 'lost+found') continue;
    const p = join(rel, name);
    const st = await lstat(join(root, p));
    if (st.isSymbolicLink()) out.set(p, `-> ${await readlink(join(root, p))}`);
    else if (st.isDirectory()) {
      out.set(p, 'dir');
      for (const [k, v] of await fingerprint(root, p)) out.set(k, v);
    } else out.set(p, createHash('sha256').update(await readFile(join(root, p))).digest('hex'));
  }
  return out;
}

test('a demo source tree is the same bytes every time it is generated', async () => {
  const a = await tempDir();
  const b = await tempDir();
  await writeDemoSourceTree('app01', a);
  await writeDemoSourceTree('app01', b);
  assert.deepEqual(await fingerprint(a), await fingerprint(b));
});

test('demo VMs hold exactly their regenerated source trees, on the right platforms, and are created once', async () => {
  const { dataDir, platform } = await openFreshPlatform();
  const logged: string[] = [];
  const created = await createDemoVms(platform, dataDir, {
    only: ['files01', 'app01'],
    diskSize: 256 * 1024 * 1024,
    log: (m) => logged.push(m),
  });
  assert.deepEqual(created.map((v) => [v.name, v.platform]), [['files01', 'vsphere'], ['app01', 'vcloud']]);
  assert.ok(logged.some((m) => m.startsWith('building demo VM files01')));
  assert.deepEqual(
    (await readdir(dataDir)).filter((n) => n.startsWith('.demo-src-')),
    [],
    'the generated source trees are removed',
  );

  const debugfs = await findTool('debugfs');
  assert.ok(debugfs, 'debugfs (e2fsprogs) must be installed');
  for (const vm of created) {
    const path = await platform.diskImagePath(vm.id, 'disk0');
    const dumped = await tempDir();
    await mkdir(join(dumped, 'root'));
    await run(debugfs, ['-R', `rdump / ${join(dumped, 'root')}`, `${path}?offset=1048576`]);
    const expected = await tempDir();
    await writeDemoSourceTree(vm.name as 'files01' | 'app01', expected);
    const got = await fingerprint(join(dumped, 'root'));
    const want = await fingerprint(expected);
    assert.deepEqual(got, want, `${vm.name}: the guest filesystem holds the generated tree`);
    if (vm.name === 'files01') {
      assert.ok(want.has('srv/share/Überblick 2026.txt'));
      assert.equal(want.get('srv/share/Current project'), '-> Projects/Apollo');
    }
  }

  const again = await createDemoVms(platform, dataDir, { only: ['app01'], log: (m) => logged.push(m) });
  assert.deepEqual(again, []);
  assert.ok(logged.includes('demo VM app01 already exists'));
});

test('the demo set is web01, db01, files01, app01 and exch01', () => {
  assert.deepEqual(DEMO_VM_NAMES, ['web01', 'db01', 'files01', 'app01', 'exch01']);
});

test('exch01 is a Windows VM whose NTFS volume holds its tree, a compressed folder, named streams, a sparse file and hard links', async () => {
  const { dataDir, platform } = await openFreshPlatform();
  const [vm] = await createDemoVms(platform, dataDir, { only: ['exch01'], diskSize: 512 * 1024 * 1024 });
  assert.deepEqual([vm.name, vm.platform, vm.guestOs], ['exch01', 'hyperv', 'windows']);
  const image = await platform.diskImagePath(vm.id, 'disk0');
  const expected = await tempDir();
  await writeDemoSourceTree('exch01', expected);
  // ntfs-3g's own view of the volume (never openem's reader).
  await withNtfs(image, { write: false }, async (root) => {
    const want = await fingerprint(expected);
    const got = await fingerprint(root);
    for (const [path, hash] of want) assert.equal(got.get(path), hash, path);
    assert.equal((await readdir(join(root, EXCH01_BIG_FOLDER))).length, 10_000);
    assert.ok((await readdir(join(root, 'Windows/System32'))).length >= 2_000);
    const archive = join(root, EXCH01_COMPRESSED_FOLDER);
    assert.equal(ntfsXattr(archive, 'system.ntfs_attrib').readUInt32LE(0) & 0x800, 0x800, 'the archive folder is compressed');
    for (const name of await readdir(archive)) assert.equal(ntfsXattr(join(archive, name), 'system.ntfs_attrib').readUInt32LE(0) & 0x800, 0x800, `${name} is compressed`);
    assert.match(ntfsXattr(join(root, 'Users/ann.lee/Downloads/Exchange2019-CU14-setup.exe'), 'user.Zone.Identifier').toString(), /ZoneId=3/);
    assert.equal(ntfsXattr(join(root, 'ExchangeDatabases/DB01/DB01.edb'), 'system.ntfs_attrib').readUInt32LE(0) & 0x200, 0x200, 'the database is sparse');
    assert.equal((await stat(join(root, 'Users/Administrator/Documents/Signature.htm'))).ino, (await stat(join(root, 'Users/ann.lee/Documents/Signature.htm'))).ino, 'hard links share a record');
  });
  assert.ok((await ntfsfixView(image)).clean);
});
