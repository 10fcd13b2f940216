// A disk whose size no longer matches the restore point's is refused with CONFLICT before a byte is written
// (sizes cannot change in place; KeepOriginalVM builds a new disk instead).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOCK_SIZE } from '../../../src/disks/block-source.js';
import { ImageFileSource } from '../../../src/disks/image-file-source.js';
import { ImageFileWriter } from '../../../src/platform/local/image-file-writer.js';
import { openRepository } from '../../../src/repository/open-repository.js';
import type { Repository, RestorePointManifest } from '../../../src/repository/repository.js';
import { applyDiskPlan } from '../../../src/services/restore-vm/apply-disk-plan.js';
import { fullRestorePlan } from '../../../src/services/restore-vm/disk-restore-plan.js';
import { quickRollbackPlan } from '../../../src/services/restore-vm/quick-rollback-plan.js';
import { backUpImage, tempDir, writeImage } from '../../repository/repository-fixtures.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
let repo: Repository;
let manifest: RestorePointManifest;
let grown: string;

before(async () => {
  dir = await tempDir();
  repo = await openRepository(join(dir.path, 'repo'), { create: true });
  const image = join(dir.path, 'disk0.img');
  await writeImage(image, ['random', 'text', 'zero', 'random']);
  manifest = (await backUpImage(repo, 'vm-resized', image)).manifest;
  grown = join(dir.path, 'grown.img');
  await writeImage(grown, ['text', 'text', 'text', 'text', 'text']);
});
after(async () => {
  await repo.close();
  await dir.cleanup();
});

test('QuickRollback on a disk that was resized since the restore point is CONFLICT', async () => {
  const current = await ImageFileSource.open(grown);
  try {
    await assert.rejects(quickRollbackPlan(repo, current, manifest.disks[0]), { code: 'CONFLICT', message: new RegExp(`${5 * BLOCK_SIZE} bytes now`) });
  } finally {
    await current.close();
  }
});

test('writing a restore point disk over a disk of another size is CONFLICT and leaves the disk as it was', async () => {
  const before = await readFile(grown);
  const writer = await ImageFileWriter.open(grown, undefined);
  try {
    await assert.rejects(applyDiskPlan(repo, writer, fullRestorePlan(manifest.disks[0], 'existing')), { code: 'CONFLICT' });
  } finally {
    await writer.close();
  }
  assert.ok((await readFile(grown)).equals(before));
});
