/**
 * Drive letters as Windows hands them out (issue #12, "drive letters assigned to a VM's NTFS volumes in order, the
 * system volume first"), on the layouts Windows setup makes:
 * - GPT (UEFI): MSR, a data volume before the system volume, the system volume, a Recovery partition, and a basic
 *   data partition marked "no drive letter": the system volume is C:, the data volume D:, the others have no letter;
 * - MBR (BIOS): the "System Reserved" boot partition (bootmgr and Boot, no Windows folder) before the system volume,
 *   and a hidden recovery partition (type 0x27): the system volume is C: and the only volume.
 * - GPT with the letters the guest's registry holds (HKLM\SYSTEM\MountedDevices, written by hivexsh): C: for the
 *   system volume, D: for a CD-ROM, E: for a data volume; a second data volume the registry does not name gets the
 *   next free letter, F:.
 * Each VM is backed up and mounted over HTTP (no body: EM's default OsKind is Windows); seed 000's `C:/Users` names
 * the system volume in the mount, in the catalog and in the FLR folder.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { writeGpt } from '../../src/disks/gpt-writer.js';
import { buildNtfsInImage } from '../../src/platform/local/ntfs-image-builder.js';
import { cliOk } from '../helpers/cli.js';
import { cleanupOf, fileCleanup, tempDir } from '../helpers/cleanup.js';
import { EmClient, findLink, openemDetails, type Format } from '../helpers/em-client.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { writeMbr } from '../guestfs/fixtures/mbr.js';
import { gptDevice, otherDevice, writeHive } from '../guestfs/fixtures/registry-hive.js';
import { guidBytes } from '../../src/disks/gpt-writer.js';
import { body, entriesOf, liveImage, mount, pointIdOf } from '../services/mounts/flr-fixture.js';

const MIB = 1024 * 1024;
const DISK = 160 * MIB;
const BASIC_DATA = 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7';
const MSR = 'e3c9e316-0b5c-4db8-817d-f92df00215ae';
const RECOVERY = 'de94bba4-06d1-4d40-a16a-bfd50179d6ac';

const cleanup = fileCleanup();
let server: ServerProcess;
let dataDir: string;

/** A folder tree, written to a fresh folder under `root`. */
function tree(root: string, name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

const SYSTEM = { 'Windows/System32/kernel32.dll': 'MZ kernel32', 'Users/Ann/Documents/plan.txt': 'the system volume\r\n' };

/** Makes a local VM, then lays its disk out as Windows setup would (the disk is the guest's to partition). */
async function windowsVm(name: string, layout: (image: string, src: string) => Promise<void>): Promise<void> {
  const src = tempDir(cleanup, `openem-${name}-src-`);
  await cliOk(dataDir, ['vm', 'create', name, '--from-dir', tree(src, 'seed', { 'x.txt': 'x' }), '--size', `${DISK / MIB}M`, '--platform', 'hyperv', '--os', 'windows']);
  const image = await liveImage(dataDir, name);
  await truncate(image, 0);
  await truncate(image, DISK);
  await layout(image, src);
  await cliOk(dataDir, ['backup', name]);
}

before(async () => {
  dataDir = tempDir(cleanup, 'openem-win-volumes-');
  await windowsVm('win-uefi', async (image, src) => {
    await writeGpt(image, DISK, [
      { start: 1 * MIB, size: 1 * MIB, name: 'Microsoft reserved partition', typeGuid: MSR },
      { start: 2 * MIB, size: 32 * MIB, name: 'Basic data partition', typeGuid: BASIC_DATA },
      { start: 34 * MIB, size: 64 * MIB, name: 'Basic data partition', typeGuid: BASIC_DATA },
      { start: 98 * MIB, size: 24 * MIB, name: 'Basic data partition', typeGuid: RECOVERY, attributes: (1n << 63n) | 1n },
      { start: 122 * MIB, size: 24 * MIB, name: 'Basic data partition', typeGuid: BASIC_DATA, attributes: 1n << 63n },
    ]);
    await buildNtfsInImage(image, 2 * MIB, 32 * MIB, tree(src, 'data', { 'Data/ledger.csv': 'the data volume\r\n' }), 'Data');
    await buildNtfsInImage(image, 34 * MIB, 64 * MIB, tree(src, 'system', SYSTEM), 'Windows');
    await buildNtfsInImage(image, 98 * MIB, 24 * MIB, tree(src, 'recovery', { 'Recovery/WindowsRE/Winre.wim': 'winre' }), 'Recovery');
    await buildNtfsInImage(image, 122 * MIB, 24 * MIB, tree(src, 'unlettered', { 'Tools/tool.txt': 'no letter' }), 'Tools');
  });
  await windowsVm('win-bios', async (image, src) => {
    await writeMbr(image, [
      { start: 1 * MIB, size: 32 * MIB, type: 0x07 },
      { start: 33 * MIB, size: 96 * MIB, type: 0x07 },
      { start: 129 * MIB, size: 24 * MIB, type: 0x27 },
    ]);
    await buildNtfsInImage(image, 1 * MIB, 32 * MIB, tree(src, 'reserved', { bootmgr: 'bootmgr', 'Boot/BCD': 'bcd' }), 'System Reserved');
    await buildNtfsInImage(image, 33 * MIB, 96 * MIB, tree(src, 'system', SYSTEM), 'Windows');
    await buildNtfsInImage(image, 129 * MIB, 24 * MIB, tree(src, 'recovery', { 'Recovery/WindowsRE/Winre.wim': 'winre' }), 'Recovery');
  });
  await windowsVm('win-letters', async (image, src) => {
    const [system, data, more] = ['5ca1ab1e-0000-4000-8000-00000000000c', '5ca1ab1e-0000-4000-8000-00000000000e', '5ca1ab1e-0000-4000-8000-0000000000ff'];
    await writeGpt(image, DISK, [
      { start: 1 * MIB, size: 1 * MIB, name: 'Microsoft reserved partition', typeGuid: MSR },
      { start: 2 * MIB, size: 32 * MIB, name: 'Basic data partition', typeGuid: BASIC_DATA, partitionGuid: more },
      { start: 34 * MIB, size: 64 * MIB, name: 'Basic data partition', typeGuid: BASIC_DATA, partitionGuid: system },
      { start: 98 * MIB, size: 32 * MIB, name: 'Basic data partition', typeGuid: BASIC_DATA, partitionGuid: data },
    ]);
    const systemTree = tree(src, 'system', SYSTEM);
    mkdirSync(join(systemTree, 'Windows/System32/config'), { recursive: true });
    writeHive(join(systemTree, 'Windows/System32/config/SYSTEM'), [
      {
        key: 'MountedDevices',
        values: [
          { name: '\\DosDevices\\C:', data: gptDevice(guidBytes(system)) },
          { name: '\\DosDevices\\D:', data: otherDevice() },
          { name: '\\DosDevices\\E:', data: gptDevice(guidBytes(data)) },
        ],
      },
    ]);
    await buildNtfsInImage(image, 2 * MIB, 32 * MIB, tree(src, 'more', { 'More/more.txt': 'not in the registry\r\n' }), 'More');
    await buildNtfsInImage(image, 34 * MIB, 64 * MIB, systemTree, 'Windows');
    await buildNtfsInImage(image, 98 * MIB, 32 * MIB, tree(src, 'data', { 'Data/ledger.csv': 'the data volume\r\n' }), 'Data');
  });
  server = await startServerProcess({ dataDir, env: { OPENEM_FLR_ROOT: join(dataDir, 'flr-folders') } });
  cleanup.defer(() => server.stop());
});

async function client(format: Format): Promise<EmClient> {
  const c = new EmClient(server.http, format);
  await c.logOn();
  return c;
}

/** `data`: the letter of the volume holding Data/ledger.csv. */
const cases = [
  { vm: 'win-uefi', letters: ['C', 'D'], data: 'D' },
  { vm: 'win-bios', letters: ['C'], data: undefined },
  { vm: 'win-letters', letters: ['C', 'E', 'F'], data: 'E' },
];

for (const { vm, letters, data: dataLetter } of cases) {
  for (const format of ['xml', 'json'] as Format[]) {
    test(`${vm}: the system volume is C:, ${dataLetter ? `the data volume ${dataLetter}:, ` : ''}the others as Windows letters them (${format})`, async (t) => {
      const c = await client(format);
      const id = await pointIdOf(c, vm);
      const href = await mount(cleanupOf(t), c, id);
      const m = body(c, (await c.get(href)).body, 'VmRestorePointMount');
      const roots = format === 'xml' ? m.FSRoots.DirectoryEntry : m.FSRoots;
      assert.deepEqual([roots].flat().map((r: { Path: string }) => r.Path), letters.map((l) => `${l}:\\`), 'FSRoots: one per lettered volume, C: first');

      const users = await c.get(`${href}/C:/Users/Ann/Documents`);
      assert.equal(users.status, 200, users.text);
      const plan = entriesOf(c, users.body).files.find((f) => f.Name === 'plan.txt');
      assert.ok(plan, "seed 000's C:/Users is on the system volume");
      const dl = await fetch(findLink(plan, 'Download')!.Href, { headers: { 'X-RestSvcSessionId': c.token! } });
      assert.equal(await dl.text(), 'the system volume\r\n');
      if (dataLetter) {
        const data = await c.get(`${href}/${dataLetter}:/Data`);
        assert.equal(data.status, 200, data.text);
        assert.deepEqual(entriesOf(c, data.body).files.map((f) => f.Name), ['ledger.csv']);
      }
      if (vm === 'win-letters') {
        const more = await c.get(`${href}/F:/More`);
        assert.deepEqual(entriesOf(c, more.body).files.map((f) => f.Name), ['more.txt'], 'the volume the registry does not name takes the next free letter');
      }
      for (const absent of ['D', 'E', 'F'].filter((l) => !letters.includes(l))) {
        const r = await c.get(`${href}/${absent}:/`);
        assert.equal(r.status, 404, `${absent}: names no volume: ${r.text}`);
      }

      const catalog = await c.get(`${c.base}/api/catalog/vms/${vm}/vmRestorePoints/${id}/guestfs/C:/Users/Ann/Documents`);
      assert.equal(catalog.status, 200, catalog.text);
      assert.deepEqual(entriesOf(c, catalog.body).files.map((f) => f.Path), ['C:/Users/Ann/Documents/plan.txt'], 'the catalog names the same volume C:');

      if (format === 'json') {
        const details = await openemDetails(c, m, 'MountDetails');
        assert.ok(details.LocalFolder, `the FLR folder is served: ${details.LocalFolderUnavailable}`);
        assert.deepEqual((await readdir(details.LocalFolder)).sort(), letters, 'the FLR folder shows each lettered volume by its letter');
        assert.equal(await readFile(join(details.LocalFolder, 'C/Users/Ann/Documents/plan.txt'), 'utf8'), 'the system volume\r\n');
      }
    });
  }
}
