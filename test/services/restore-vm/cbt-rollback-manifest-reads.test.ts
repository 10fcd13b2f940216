// A QuickRollback from CBT reads the later points' manifests it needs, and no manifest object twice: on the node
// that made the backups it gets none from the blob store, on another node one (the later point's; the restore
// point itself is the caller's), however often it plans. The plan is the same on both.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createBaseContext } from '../../../src/app-context.js';
import { loadConfig } from '../../../src/config.js';
import type { BaseContext } from '../../../src/context.js';
import { createLogger } from '../../../src/logger.js';
import { BLOCK_SIZE, type BlockSource, type ChangeTracking, type Extent } from '../../../src/disks/block-source.js';
import { ImageFileSource } from '../../../src/disks/image-file-source.js';
import { openRepository } from '../../../src/repository/open-repository.js';
import type { Repository, RestorePointManifest } from '../../../src/repository/repository.js';
import { LocalBlobStore } from '../../../src/repository/stores/local/local-blob-store.js';
import { cbtRollbackPlan, trackedPoints } from '../../../src/services/restore-vm/cbt-rollback-plan.js';
import { StateRepositoryCatalog } from '../../../src/tasks/repository-catalog.js';
import { StateRepositoryLeases } from '../../../src/tasks/repository-leases.js';
import { ManifestGetCountingStore } from '../../repository/manifest-get-counting-store.js';
import { changeBlock, tempDir, vmConfig, writeImage } from '../../repository/repository-fixtures.js';

let ctx: BaseContext;
let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir();
  const config = loadConfig({ env: {}, flags: { dataDir: join(dir.path, 'data'), adminPassword: 'Admin-pass-1' } });
  ctx = await createBaseContext(config, createLogger('silent'), { announce: () => {} });
});
after(async () => {
  await ctx?.store.close();
  await dir?.cleanup();
});

/** `source` as a disk with changed-block tracking: opened at `checkpoint`, written at `changed` since any earlier one. */
function tracked(source: BlockSource, checkpoint: string | undefined, changed: Extent[]): BlockSource {
  const tracking: ChangeTracking = { ...(checkpoint ? { checkpoint } : {}), changedBlocksSince: async () => changed };
  return Object.defineProperty(source, 'changeTracking', { value: tracking });
}

async function backUp(repo: Repository, image: string, checkpoint: string, changed: Extent[], createdAt: string, previous?: RestorePointManifest) {
  const writer = await repo.beginBackup('vm-cbt');
  const source = tracked(await ImageFileSource.open(image), checkpoint, changed);
  try {
    await writer.addDisk('disk0', source, { previous: previous?.disks[0] });
  } finally {
    await source.close();
  }
  const { manifest } = await writer.commit({
    id: randomUUID(), restorePointId: randomUUID(), jobId: 'job', vmId: 'vm-cbt', vmName: 'vm-cbt', createdAt,
    pointType: previous ? 'Increment' : 'Full', parentId: previous?.id, vm: vmConfig('vm-cbt'),
  });
  return manifest;
}

test('planning a QuickRollback from CBT gets no manifest object on the node that made the points, and one on another node', async (t) => {
  const repoPath = join(dir.path, 'repo');
  const node = async () => {
    const store = new ManifestGetCountingStore(new LocalBlobStore(repoPath));
    const leases = new StateRepositoryLeases(ctx);
    const repo = await openRepository(store.location, { create: true, store, leases, catalog: (key: string) => new StateRepositoryCatalog(ctx, key) });
    t.after(async () => (await repo.close(), leases.stop()));
    return { store, repo };
  };
  const image = join(dir.path, 'disk.img');
  await writeImage(image, ['random', 'text', 'random', 'zero', 'random', 'text', 'random', 'random']);
  const a = await node();
  const full = await backUp(a.repo, image, 'cp-full', [], '2026-01-01T00:00:00.000Z');
  await changeBlock(image, 2);
  await backUp(a.repo, image, 'cp-increment', [{ offset: 2 * BLOCK_SIZE, length: BLOCK_SIZE }], '2026-01-02T00:00:00.000Z', full);
  // Since the increment, the guest wrote block 5; block 2 differs between the points in their manifests.
  const plan = async (repo: Repository) => {
    const points = await trackedPoints(repo, full, 'vm-cbt', 'disk0');
    assert.deepEqual(points.map((p) => p.disk.checkpoint), ['cp-increment', 'cp-full'], 'newest first, the point itself among them');
    const current = tracked(await ImageFileSource.open(image), undefined, [{ offset: 5 * BLOCK_SIZE, length: BLOCK_SIZE }]);
    try {
      const r = await cbtRollbackPlan(current, full.disks[0], points);
      assert.ok(!('broken' in r));
      return r.plan.fetch.map((b) => b.index);
    } finally {
      await current.close();
    }
  };
  const gets = a.store.manifestGets;
  for (let i = 0; i < 3; i++) assert.deepEqual(await plan(a.repo), [2, 5]);
  assert.equal(a.store.manifestGets - gets, 0, 'the node that wrote both points reads neither back');
  const b = await node();
  for (let i = 0; i < 3; i++) assert.deepEqual(await plan(b.repo), [2, 5]);
  assert.equal(b.store.manifestGets, 1, 'another node gets the later point once for three plans');
});
