/**
 * A hostile SYSTEM hive cannot make the registry reader read or keep gigabytes: every list may name one large cell
 * again and again (65,535 subkeys that are all one 1 MiB key, 65,535 values that all hold one 1 MiB value), and each
 * cell alone passes its checks. The reader gives CORRUPT once it has read its budget of cells, and the hive's reader
 * function is asked for far less than the lists multiplied out (64 GiB each).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryHive } from '../../src/guestfs/windows-registry-hive.js';
import { isOpenemError } from '../../src/errors.js';

const BASE_BLOCK = 4096;
const BIG_CELL = 1024 * 1024;
const COUNT = 65535;

/** A regf base block (version 1.3, so no big-data cells) with its checksum. */
function baseBlock(rootCell: number, binsSize: number): Buffer {
  const base = Buffer.alloc(BASE_BLOCK);
  base.write('regf', 0, 'latin1');
  base.writeUInt32LE(1, 0x14);
  base.writeUInt32LE(3, 0x18);
  base.writeUInt32LE(rootCell, 0x24);
  base.writeUInt32LE(binsSize, 0x28);
  let xor = 0;
  for (let i = 0; i < 0x1fc; i += 4) xor = (xor ^ base.readUInt32LE(i)) >>> 0;
  base.writeUInt32LE(xor, 0x1fc);
  return base;
}

/** An allocated cell of `size` bytes (its size field included) holding `body`. */
function cell(size: number, body: Buffer): Buffer {
  const c = Buffer.alloc(size);
  c.writeInt32LE(-size, 0);
  body.copy(c, 4);
  return c;
}

function nk(name: string, fields: { subkeyCount?: number; subkeyList?: number; valueCount?: number; valueList?: number }): Buffer {
  const b = Buffer.alloc(0x4c + name.length);
  b.write('nk', 0, 'latin1');
  b.writeUInt16LE(0x20, 0x02); // 8-bit name
  b.writeUInt32LE(fields.subkeyCount ?? 0, 0x14);
  b.writeUInt32LE(fields.subkeyList ?? 0xffffffff, 0x1c);
  b.writeUInt32LE(fields.valueCount ?? 0, 0x24);
  b.writeUInt32LE(fields.valueList ?? 0xffffffff, 0x28);
  b.writeUInt16LE(name.length, 0x48);
  b.write(name, 0x4c, 'latin1');
  return b;
}

/**
 * A hive whose root lists COUNT subkeys, all the one 1 MiB key `Other`, and COUNT values, all the one value whose
 * data is a 1 MiB cell. Cells: root, the subkey list, the value list, the big key, the value, its data.
 */
function hostileHive(): Buffer {
  const lfSize = 8 * Math.ceil((4 + 4 + COUNT * 8) / 8);
  const valueListSize = 8 * Math.ceil((4 + COUNT * 4) / 8);
  const root = 0;
  const rootSize = 8 * Math.ceil((4 + 0x4c + 4) / 8);
  const lf = root + rootSize;
  const valueList = lf + lfSize;
  const bigKey = valueList + valueListSize;
  const vk = bigKey + BIG_CELL;
  const vkSize = 32;
  const data = vk + vkSize;
  const dataSize = BIG_CELL;
  const binsSize = data + dataSize;

  const lfBody = Buffer.alloc(lfSize - 4);
  lfBody.write('lf', 0, 'latin1');
  lfBody.writeUInt16LE(COUNT, 2);
  for (let i = 0; i < COUNT; i++) lfBody.writeUInt32LE(bigKey, 4 + i * 8);
  const valuesBody = Buffer.alloc(valueListSize - 4);
  for (let i = 0; i < COUNT; i++) valuesBody.writeUInt32LE(vk, i * 4);
  const vkBody = Buffer.alloc(vkSize - 4);
  vkBody.write('vk', 0, 'latin1');
  vkBody.writeUInt16LE(1, 0x02); // name length
  vkBody.writeUInt32LE(dataSize - 4, 0x04);
  vkBody.writeUInt32LE(data, 0x08);
  vkBody.writeUInt32LE(3, 0x0c); // REG_BINARY
  vkBody.writeUInt16LE(1, 0x10); // 8-bit name
  vkBody.write('v', 0x14, 'latin1');

  return Buffer.concat([
    baseBlock(root, binsSize),
    cell(rootSize, nk('ROOT', { subkeyCount: COUNT, subkeyList: lf, valueCount: COUNT, valueList })),
    cell(lfSize, lfBody),
    cell(valueListSize, valuesBody),
    cell(BIG_CELL, nk('Other', {})),
    cell(vkSize, vkBody),
    cell(dataSize, Buffer.alloc(0)),
  ]);
}

/** The hive's bytes through a reader that counts what it is asked for. */
function countingReader(bytes: Buffer): { read: (offset: number, length: number) => Promise<Buffer>; asked: () => number } {
  let asked = 0;
  return {
    read: async (offset, length) => {
      asked += length;
      return bytes.subarray(offset, offset + length);
    },
    asked: () => asked,
  };
}

async function corruptAfterBudget(run: (hive: RegistryHive) => Promise<unknown>): Promise<number> {
  const bytes = hostileHive();
  const reader = countingReader(bytes);
  const hive = await RegistryHive.open(reader.read);
  await assert.rejects(
    () => run(hive),
    (e: unknown) => isOpenemError(e) && e.code === 'CORRUPT' && /more than \d+ MiB/.test(e.message),
  );
  return reader.asked();
}

test('65,535 subkeys that are one 1 MiB key: the lookup stops with CORRUPT after the budget, not after 64 GiB', async () => {
  const asked = await corruptAfterBudget(async (hive) => hive.subkey(await hive.root(), 'MountedDevices'));
  assert.ok(asked < 128 * 1024 * 1024, `read ${asked} bytes`);
});

test('65,535 values that are one 1 MiB value: listing them stops with CORRUPT after the budget, keeping no 64 GiB', async () => {
  const asked = await corruptAfterBudget(async (hive) => hive.values(await hive.root()));
  assert.ok(asked < 128 * 1024 * 1024, `read ${asked} bytes`);
});
