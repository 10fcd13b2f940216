// A manifest read or written once is kept parsed: the next reads fetch no object from the blob store. Whether it
// is still current is asked of the state catalog every time, so a manifest another node (same state store, same
// blob store) forgot is not served from what this node kept. SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openRepository } from '../../src/repository/open-repository.js';
import { LocalBlobStore } from '../../src/repository/stores/local/local-blob-store.js';
import { StateRepositoryCatalog } from '../../src/tasks/repository-catalog.js';
import { StateRepositoryLeases } from '../../src/tasks/repository-leases.js';
import { startTestPostgres, type TestPostgres } from '../state/postgres-fixture.js';
import { backUpImage, writeImage } from './repository-fixtures.js';
import { stateContextPerFile } from './state-context-per-file.js';
import { ManifestGetCountingStore } from './manifest-get-counting-store.js';

function behaviours(where: () => Promise<{ databaseUrl?: string }>) {
  const state = stateContextPerFile(where);

  /** A node: its own repository object on the shared blob store folder and the shared state store. */
  const node = async (t: import('node:test').TestContext, repoPath: string) => {
    const store = new ManifestGetCountingStore(new LocalBlobStore(repoPath));
    const leases = new StateRepositoryLeases(state.ctx);
    const repo = await openRepository(store.location, { create: true, store, leases, catalog: (key: string) => new StateRepositoryCatalog(state.ctx, key) });
    t.after(async () => (await repo.close(), leases.stop()));
    return { store, repo };
  };

  test('a manifest written or read once is read again without a get of its object', async (t) => {
    const repoPath = join(state.dir, 'kept');
    const a = await node(t, repoPath);
    await writeImage(join(state.dir, 'kept.img'), ['random', 'zero', 'text']);
    const point = await backUpImage(a.repo, 'vm-a', join(state.dir, 'kept.img'));
    const gets = a.store.manifestGets;
    for (let i = 0; i < 3; i++) assert.deepEqual(await a.repo.readManifest(point.manifest.id), point.manifest);
    assert.equal(a.store.manifestGets - gets, 0, 'the node that wrote the manifest reads none of its object back');
    const b = await node(t, repoPath);
    for (let i = 0; i < 3; i++) assert.deepEqual(await b.repo.readManifest(point.manifest.id), point.manifest);
    assert.equal(b.store.manifestGets, 1, 'another node gets the object once for three reads');
  });

  test('a manifest another node forgot is not read from what a node kept', async (t) => {
    const repoPath = join(state.dir, 'forgotten');
    const a = await node(t, repoPath);
    const b = await node(t, repoPath);
    await writeImage(join(state.dir, 'forgotten.img'), ['text', 'random']);
    const point = await backUpImage(a.repo, 'vm-f', join(state.dir, 'forgotten.img'));
    assert.ok(await a.repo.readManifest(point.manifest.id));
    assert.ok(await b.repo.readManifest(point.manifest.id));
    await b.repo.forget([point.manifest.id]);
    assert.equal(await a.repo.readManifest(point.manifest.id), undefined, 'the node that wrote and kept it sees it forgotten');
    assert.equal(await b.repo.readManifest(point.manifest.id), undefined);
  });

  test('a check reads the stored manifest, not the one kept: a damaged object is found by the node that wrote it', async (t) => {
    const repoPath = join(state.dir, 'checked');
    const a = await node(t, repoPath);
    await writeImage(join(state.dir, 'checked.img'), ['random']);
    const point = await backUpImage(a.repo, 'vm-c', join(state.dir, 'checked.img'));
    assert.deepEqual((await a.repo.check()).problems, []);
    await writeFile(join(repoPath, 'manifests', `${point.manifest.id}.json`), '{"damaged":');
    const problems = (await a.repo.check()).problems;
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0], new RegExp(`manifest ${point.manifest.id}: not valid JSON`));
  });

  test('a kept manifest is frozen: a reader cannot change what the next reader gets', async (t) => {
    const a = await node(t, join(state.dir, 'frozen'));
    await writeImage(join(state.dir, 'frozen.img'), ['random']);
    const point = await backUpImage(a.repo, 'vm-z', join(state.dir, 'frozen.img'));
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
