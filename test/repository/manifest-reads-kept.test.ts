// A manifest read or written once is kept parsed: the next reads fetch no object from the blob store. Whether it
// is still current is asked of the state catalog every time, so a manifest another node (same state store, same
// blob store) forgot is not served from what this node kept. SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createBaseContext } from '../../src/app-context.js';
import { loadConfig } from '../../src/config.js';
import type { BaseContext } from '../../src/context.js';
import { createLogger } from '../../src/logger.js';
import { openRepository } from '../../src/repository/open-repository.js';
import { LocalBlobStore } from '../../src/repository/stores/local/local-blob-store.js';
import { StateRepositoryCatalog } from '../../src/tasks/repository-catalog.js';
import { StateRepositoryLeases } from '../../src/tasks/repository-leases.js';
import { startTestPostgres, type TestPostgres } from '../state/postgres-fixture.js';
import { backUpImage, tempDir, writeImage } from './repository-fixtures.js';
import { ManifestGetCountingStore } from './manifest-get-counting-store.js';

function behaviours(where: () => Promise<{ databaseUrl?: string }>) {
  let ctx: BaseContext;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir();
    const config = loadConfig({ env: {}, flags: { dataDir: join(dir.path, 'data'), adminPassword: 'Admin-pass-1', ...(await where()) } });
    ctx = await createBaseContext(config, createLogger('silent'), { announce: () => {} });
  });
  after(async () => {
    await ctx?.store.close();
    await dir?.cleanup();
  });

  /** A node: its own repository object on the shared blob store folder and the shared state store. */
  const node = async (t: import('node:test').TestContext, repoPath: string) => {
    const store = new ManifestGetCountingStore(new LocalBlobStore(repoPath));
    const leases = new StateRepositoryLeases(ctx);
    const repo = await openRepository(store.location, { create: true, store, leases, catalog: (key: string) => new StateRepositoryCatalog(ctx, key) });
    t.after(async () => (await repo.close(), leases.stop()));
    return { store, repo };
  };

  test('a manifest written or read once is read again without a get of its object', async (t) => {
    const repoPath = join(dir.path, 'kept');
    const a = await node(t, repoPath);
    await writeImage(join(dir.path, 'kept.img'), ['random', 'zero', 'text']);
    const point = await backUpImage(a.repo, 'vm-a', join(dir.path, 'kept.img'));
    const gets = a.store.manifestGets;
    for (let i = 0; i < 3; i++) assert.deepEqual(await a.repo.readManifest(point.manifest.id), point.manifest);
    assert.equal(a.store.manifestGets - gets, 0, 'the node that wrote the manifest reads none of its object back');
    const b = await node(t, repoPath);
    for (let i = 0; i < 3; i++) assert.deepEqual(await b.repo.readManifest(point.manifest.id), point.manifest);
    assert.equal(b.store.manifestGets, 1, 'another node gets the object once for three reads');
  });

  test('a manifest another node forgot is not read from what a node kept', async (t) => {
    const repoPath = join(dir.path, 'forgotten');
    const a = await node(t, repoPath);
    const b = await node(t, repoPath);
    await writeImage(join(dir.path, 'forgotten.img'), ['text', 'random']);
    const point = await backUpImage(a.repo, 'vm-f', join(dir.path, 'forgotten.img'));
    assert.ok(await a.repo.readManifest(point.manifest.id));
    assert.ok(await b.repo.readManifest(point.manifest.id));
    await b.repo.forget([point.manifest.id]);
    assert.equal(await a.repo.readManifest(point.manifest.id), undefined, 'the node that wrote and kept it sees it forgotten');
    assert.equal(await b.repo.readManifest(point.manifest.id), undefined);
  });

  test('a check reads the stored manifest, not the one kept: a damaged object is found by the node that wrote it', async (t) => {
    const repoPath = join(dir.path, 'checked');
    const a = await node(t, repoPath);
    await writeImage(join(dir.path, 'checked.img'), ['random']);
    const point = await backUpImage(a.repo, 'vm-c', join(dir.path, 'checked.img'));
    assert.deepEqual((await a.repo.check()).problems, []);
    await writeFile(join(repoPath, 'manifests', `${point.manifest.id}.json`), '{"damaged":');
    const problems = (await a.repo.check()).problems;
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0], new RegExp(`manifest ${point.manifest.id}: not valid JSON`));
  });

  test('a kept manifest is frozen: a reader cannot change what the next reader gets', async (t) => {
    const a = await node(t, join(dir.path, 'frozen'));
    await writeImage(join(dir.path, 'frozen.img'), ['random']);
    const point = await backUpImage(a.repo, 'vm-z', join(dir.path, 'frozen.img'));
    const read = (await a.repo.readManifest(point.manifest.id))!;
    assert.throws(() => (read.disks[0].blocks as (string | null)[]).push(null), TypeError);
    assert.throws(() => ((read as { vmName: string }).vmName = 'changed'), TypeError);
    assert.deepEqual((await a.repo.readManifest(point.manifest.id))!.disks[0].blocks, point.manifest.disks[0].blocks);
  });
}

describe('manifests kept parsed, on SQLite', () => behaviours(async () => ({})));

describe('manifests kept parsed, on PostgreSQL', () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startTestPostgres();
  });
  after(async () => pg?.stop());
  behaviours(async () => ({ databaseUrl: await pg.newDatabaseUrl() }));
});
