import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageFileSource } from '../../src/disks/image-file-source.js';
import { writeGpt, writeGptWithSinglePartition } from '../../src/disks/gpt-writer.js';
import { GPT_TYPE_LINUX_FILESYSTEM, readPartitionTable } from '../../src/disks/partition-table.js';
import { isOpenemError } from '../../src/errors.js';
import { run, tempDir } from '../guestfs/fixtures/ext4-images.js';

const MiB = 1024 * 1024;

async function tableOf(path: string) {
  const src = await ImageFileSource.open(path);
  try {
    return await readPartitionTable(src);
  } finally {
    await src.close();
  }
}

test('a GPT written by gpt-writer reads back as one partition, and util-linux agrees', async (t) => {
  const disk = join(tempDir(t), 'disk.img');
  await writeFile(disk, '');
  await writeGptWithSinglePartition(disk, 64 * MiB, 1 * MiB, 62 * MiB, 'rootfs', {
    diskGuid: '11111111-2222-3333-4444-555555555555',
    partitionGuid: '66666666-7777-8888-9999-aaaaaaaaaaaa',
  });
  const table = await tableOf(disk);
  assert.equal(table.scheme, 'gpt');
  assert.ok(table.scheme === 'gpt');
  assert.equal(table.diskGuid, '11111111-2222-3333-4444-555555555555');
  assert.deepEqual(table.partitions, [
    { index: 1, start: MiB, size: 62 * MiB, type: GPT_TYPE_LINUX_FILESYSTEM, name: 'rootfs', attributes: 0n, guid: '66666666-7777-8888-9999-aaaaaaaaaaaa' },
  ]);
  // partx checks the header and entry CRCs itself; a bad CRC would show no partition.
  const partx = run('partx', ['--show', '--bytes', '--noheadings', '-o', 'NR,START,SECTORS,TYPE,NAME,UUID', disk]);
  assert.match(partx.trim(), /^1\s+2048\s+126976\s+0fc63daf-8483-4772-8e79-3d69d8477de4\s+rootfs\s+66666666-7777-8888-9999-aaaaaaaaaaaa$/);
});

test("a GPT entry's attribute bits (Windows' no-drive-letter bit 63) read back as written, and sfdisk agrees", async (t) => {
  const disk = join(tempDir(t), 'disk.img');
  await writeFile(disk, '');
  const RECOVERY = 'de94bba4-06d1-4d40-a16a-bfd50179d6ac';
  await writeGpt(disk, 32 * MiB, [
    { start: MiB, size: 8 * MiB, name: 'data', typeGuid: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7' },
    { start: 9 * MiB, size: 8 * MiB, name: 'recovery', typeGuid: RECOVERY, attributes: (1n << 63n) | 1n },
  ]);
  const table = await tableOf(disk);
  assert.deepEqual(table.partitions.map((p) => [p.name, p.type, p.attributes]), [
    ['data', 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7', 0n],
    ['recovery', RECOVERY, 0x8000000000000001n],
  ]);
  // partx checks the CRCs and shows the attribute bits as FLAGS.
  const partx = run('partx', ['--show', '--noheadings', '-o', 'NR,FLAGS', disk]);
  assert.deepEqual(partx.trim().split('\n').map((l) => l.trim().split(/\s+/)), [['1', '0x0'], ['2', '0x8000000000000001']], partx);
});

test('a GPT whose header CRC is damaged is reported CORRUPT', async (t) => {
  const disk = join(tempDir(t), 'disk.img');
  await writeFile(disk, '');
  await writeGptWithSinglePartition(disk, 8 * MiB, MiB, 4 * MiB, 'x');
  const fh = await open(disk, 'r+');
  await fh.write(Buffer.from([0x42]), 0, 1, 512 + 40); // first-usable LBA, inside the CRC'd header
  await fh.close();
  await assert.rejects(tableOf(disk), (e) => isOpenemError(e) && e.code === 'CORRUPT');
});

test('an MBR with primary and logical partitions lists them numbered 1-4 then 5+', async (t) => {
  const disk = join(tempDir(t), 'disk.img');
  const img = Buffer.alloc(64 * MiB);
  const entry = (sector: Buffer, i: number, type: number, lba: number, sectors: number) => {
    const o = 446 + i * 16;
    sector[o + 4] = type;
    sector.writeUInt32LE(lba, o + 8);
    sector.writeUInt32LE(sectors, o + 12);
    sector[510] = 0x55;
    sector[511] = 0xaa;
  };
  const mbr = img.subarray(0, 512);
  entry(mbr, 0, 0x83, 2048, 20480); // 1 MiB .. 11 MiB
  entry(mbr, 1, 0x05, 24576, 65536); // extended from 12 MiB
  const ebr1 = img.subarray(24576 * 512, 24576 * 512 + 512);
  entry(ebr1, 0, 0x83, 2048, 8192); // logical 5: relative to this EBR
  entry(ebr1, 1, 0x05, 16384, 16384); // next EBR, relative to the extended start
  const ebr2 = img.subarray((24576 + 16384) * 512, (24576 + 16384) * 512 + 512);
  entry(ebr2, 0, 0x82, 2048, 4096); // logical 6 (swap)
  await writeFile(disk, img);
  const table = await tableOf(disk);
  assert.equal(table.scheme, 'mbr');
  assert.deepEqual(
    table.partitions.map((p) => [p.index, p.start / 512, p.size / 512, p.type]),
    [
      [1, 2048, 20480, '0x83'],
      [5, 24576 + 2048, 8192, '0x83'],
      [6, 24576 + 16384 + 2048, 4096, '0x82'],
    ],
  );
  const partx = run('partx', ['--show', '--noheadings', '-o', 'NR,START,SECTORS', disk]);
  assert.deepEqual(
    partx.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number)).filter((r) => r[0] !== 2),
    [[1, 2048, 20480], [5, 24576 + 2048, 8192], [6, 24576 + 16384 + 2048, 4096]],
  );
});

test('a disk without a partition table says so (whole-disk filesystem case)', async (t) => {
  const disk = join(tempDir(t), 'disk.img');
  await writeFile(disk, Buffer.alloc(MiB));
  const table = await tableOf(disk);
  assert.equal(table.scheme, 'none');
  assert.deepEqual(table.partitions, []);
  assert.ok(table.scheme === 'none' && /no MBR boot signature/.test(table.reason));
});
