// Thin disks (issue #11 goal 1): a backup and a QuickRollback of a VM on the local platform read where the data
// is — the image's extent map, through the disk's allocatedExtents — and no hole.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { BLOCK_SIZE } from '../../../src/disks/block-source.js';
import type { AppContext } from '../../../src/services/app-services.js';
import { backupVm } from '../../../src/services/backup/backup-vm.js';
import { startVmRestore } from '../../../src/services/restore-vm/start-vm-restore.js';
import { findVmRestorePoint } from '../../../src/services/inventory/restore-point-records.js';
import type { BlockKind } from '../../repository/repository-fixtures.js';
import { fileCleanup, tempDir } from '../../helpers/cleanup.js';
import { adminPrincipal, backUpWithReference, createVm, diskCounters, diskPath, openTestApp, scribble, sessionOfTask, sha256File, waitForStopped } from '../restore-vm/restore-fixtures.js';

const cleanup = fileCleanup();
let ctx: AppContext;
let refs: string;

before(async () => {
  ctx = (await openTestApp(cleanup)).ctx;
  refs = tempDir(cleanup, 'openem-refs-');
});

/** A 256 MiB disk with data in 12 blocks (two runs and a single block), holes everywhere else. */
function thinBlocks(): BlockKind[] {
  const kinds: BlockKind[] = Array.from({ length: 256 }, () => 'zero');
  for (const i of [0, 1, 2, 3, 4, 100, 101, 102, 103, 104, 105, 250]) kinds[i] = i % 2 ? 'text' : 'random';
  return kinds;
}

test('a backup of a thin disk reads its data blocks and not one hole', async () => {
  await createVm(ctx, 'thin01', thinBlocks());
  const { manifest, stats } = await backupVm(ctx, 'thin01');
  assert.equal(stats.bytesRead, 12 * BLOCK_SIZE, 'bytes read are the data');
  assert.equal(stats.blocksTotal, 256);
  assert.equal(stats.blocksZero, 244, 'holes count as zero blocks');
  assert.equal(manifest.disks[0].blocks.filter((h) => h !== null).length, 12);
});

test('QuickRollback of a thin disk compares only its data, and writes only the block that differs', async () => {
  await createVm(ctx, 'thin02', thinBlocks());
  const { pointId, reference } = await backUpWithReference(ctx, 'thin02', refs);
  await scribble(await diskPath(ctx, 'thin02'), [101]);
  const point = (await findVmRestorePoint(ctx, pointId))!;
  const task = await startVmRestore(ctx, await adminPrincipal(ctx), point, { vmRestorePointId: pointId, powerOnAfterRestore: false, quickRollback: true, target: { kind: 'original' } });
  const s = await waitForStopped(ctx, await sessionOfTask(ctx, task.taskId));
  assert.equal(s.result, 'Success', s.failureMessage);
  const line = s.log.map((l) => l.text).find((t) => t.startsWith('Disk disk0:')) ?? '';
  assert.equal(diskCounters(s.log).fetched, 1);
  assert.match(line, /compared 12\.0 MiB of the current disk/, 'the holes were not read');
  assert.equal(await sha256File(await diskPath(ctx, 'thin02')), await sha256File(reference));
});
