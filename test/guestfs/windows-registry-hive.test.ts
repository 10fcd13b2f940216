/**
 * openem's registry hive reader against hives hivexsh (libhivex-bin) writes: keys found case-insensitively among
 * hundreds, values byte for byte, MountedDevices read as drive letters; and hostile hives (random damage) give a
 * CORRUPT error or an answer, never another error, a hang or a large allocation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestFilesystem } from '../../src/guestfs/guest-filesystem.js';
import { readMountedDevices, SYSTEM_HIVE } from '../../src/guestfs/windows-mounted-devices.js';
import { RegistryHive } from '../../src/guestfs/windows-registry-hive.js';
import { guidBytes } from '../../src/disks/gpt-writer.js';
import { isOpenemError } from '../../src/errors.js';
import { tempDir } from './fixtures/ext4-images.js';
import { gptDevice, hivexValues, mbrDevice, otherDevice, writeHive } from './fixtures/registry-hive.js';

const GUID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

function hiveFile(t: { after(fn: () => void): void }): { path: string; bytes: Buffer } {
  const path = join(tempDir(t, 'openem-hive-'), 'SYSTEM');
  const filler = Array.from({ length: 300 }, (_, i) => ({ key: `ControlSet${String(i).padStart(3, '0')}`, values: [{ name: 'Id', data: Buffer.from([i & 0xff]) }] }));
  writeHive(path, [
    ...filler.slice(0, 150),
    {
      key: 'MountedDevices',
      values: [
        { name: '\\DosDevices\\C:', data: gptDevice(guidBytes(GUID)) },
        { name: '\\DosDevices\\D:', data: otherDevice() },
        { name: '\\DosDevices\\E:', data: mbrDevice(0x12345678, 1048576) },
        { name: '\\??\\Volume{4a0c1f9e-0000-0000-0000-100000000000}', data: mbrDevice(0x12345678, 1048576) },
      ],
    },
    ...filler.slice(150),
  ]);
  return { path, bytes: readFileSync(path) };
}

const reader = (bytes: Buffer) => async (offset: number, length: number) => bytes.subarray(offset, offset + length);

test('a hive hivexsh wrote: the key is found case-insensitively among 300 others, and its values are what was set', async (t) => {
  const { path, bytes } = hiveFile(t);
  const hive = await RegistryHive.open(reader(bytes));
  const root = await hive.root();
  assert.equal(root.subkeyCount, 301);
  const key = await hive.subkey(root, 'mounteddevices');
  assert.ok(key, 'MountedDevices is found whatever the case');
  assert.equal(key.name, 'MountedDevices');
  const values = await hive.values(key);
  assert.deepEqual(values.map((v) => [v.name, v.type, v.data?.toString('hex')]), [
    ['\\DosDevices\\C:', 3, gptDevice(guidBytes(GUID)).toString('hex')],
    ['\\DosDevices\\D:', 3, otherDevice().toString('hex')],
    ['\\DosDevices\\E:', 3, mbrDevice(0x12345678, 1048576).toString('hex')],
    ['\\??\\Volume{4a0c1f9e-0000-0000-0000-100000000000}', 3, mbrDevice(0x12345678, 1048576).toString('hex')],
  ]);
  const shown = hivexValues(path, 'MountedDevices');
  for (const v of values) assert.ok(shown.includes(`"${v.name.replace(/\\/g, '\\\\')}"=hex(3):${[...v.data!].map((b) => b.toString(16).padStart(2, '0')).join(',')}`), shown);
  assert.equal((await hive.subkey(await hive.root(), 'ControlSet299'))?.name, 'ControlSet299');
  assert.equal(await hive.subkey(root, 'NoSuchKey'), undefined);
});

test('MountedDevices as drive letters: a GPT partition, an MBR partition and a device openem does not read', async (t) => {
  const { bytes } = hiveFile(t);
  const fs = { read: async (path: string, offset: number, length: number) => (assert.equal(path, SYSTEM_HIVE), bytes.subarray(offset, offset + length)) } as unknown as GuestFilesystem;
  const { letters, reason } = await readMountedDevices(fs);
  assert.equal(reason, undefined);
  assert.deepEqual([...letters], [
    ['C', { gptPartition: GUID }],
    ['D', 'other'],
    ['E', { mbrSignature: 0x12345678, offset: 1048576 }],
  ]);
});

test('a system volume without a readable SYSTEM hive gives no letters and says why', async () => {
  const fs = { read: async () => Buffer.from('not a hive at all, just text') } as unknown as GuestFilesystem;
  const { letters, reason } = await readMountedDevices(fs);
  assert.equal(letters.size, 0);
  assert.match(reason!, /SYSTEM hive is not readable: not a registry hive/);
});

test('a damaged hive gives CORRUPT or an answer, never another error (2,000 random damages, fixed seed)', async (t) => {
  const { bytes } = hiveFile(t);
  let seed = 0x5eed;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  let corrupt = 0;
  for (let round = 0; round < 2000; round++) {
    const damaged = Buffer.from(bytes);
    for (let n = 1 + Math.floor(random() * 8); n > 0; n--) {
      // Mostly inside the cells (after the base block), sometimes the base block itself (the checksum then fails).
      const at = random() < 0.9 ? 4096 + Math.floor(random() * (damaged.length - 4096)) : Math.floor(random() * 512);
      damaged[at] = Math.floor(random() * 256);
    }
    const view = random() < 0.1 ? damaged.subarray(0, Math.floor(random() * damaged.length)) : damaged;
    try {
      const hive = await RegistryHive.open(reader(view));
      const key = await hive.subkey(await hive.root(), 'MountedDevices');
      if (key) await hive.values(key);
    } catch (e) {
      assert.ok(isOpenemError(e) && e.code === 'CORRUPT', `round ${round}: ${(e as Error).stack}`);
      corrupt++;
    }
  }
  assert.ok(corrupt > 100, `most damages are noticed (${corrupt})`);
});
