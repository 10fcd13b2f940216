// Correctness without list-after-write (issue #14): which manifests are current and which packs are referenced
// live in the state store's catalog, so a blob store whose listings hide fresh objects (as an eventually consistent
// S3-compatible store may) never makes gc delete a referenced pack, nor hides a new restore point from another
// process. The same listing makes a repository without the catalog lose a pack, which shows the wrapper bites.
// SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BlobStore, ByteRange } from '../../src/repository/blob-store.js';
import { openRepository } from '../../src/repository/open-repository.js';
import { indexKey, packIdOfPackKey } from '../../src/repository/pack-format.js';
import { LocalBlobStore } from '../../src/repository/stores/local/local-blob-store.js';
import { StateRepositoryCatalog } from '../../src/tasks/repository-catalog.js';
import { StateRepositoryLeases } from '../../src/tasks/repository-leases.js';
import { startTestPostgres, type TestPostgres } from '../state/postgres-fixture.js';
import { backUpImage, restoreToBuffer, writeImage } from './repository-fixtures.js';
import { stateContextPerFile } from './state-context-per-file.js';
import { readFile } from 'node:fs/promises';

/** A blob store whose listings leave out index and manifest objects written since `hideFresh()`; reads by key see them. */
class FreshHidingStore implements BlobStore {
  private hiding = false;
  private readonly hidden = new Set<string>();
  constructor(private readonly inner: BlobStore) {}
  get location() {
    return this.inner.location;
  }
  hideFresh() {
    this.hiding = true;
  }
  async put(key: string, data: Buffer | readonly Buffer[]) {
    await this.inner.put(key, data);
    if (this.hiding && /^(index|manifests)\//.test(key)) this.hidden.add(key);
  }
  get(key: string, range?: ByteRange) {
    return this.inner.get(key, range);
  }
  stat(key: string) {
    return this.inner.stat(key);
  }
  exists(key: string) {
    return this.inner.exists(key);
  }
  async list(prefix: string) {
    return (await this.inner.list(prefix)).filter((k) => !this.hidden.has(k));
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
}

function behaviours(where: () => Promise<{ databaseUrl?: string }>) {
  const state = stateContextPerFile(where);

  const openOn = async (store: BlobStore, withCatalog: boolean) => {
    const leases = new StateRepositoryLeases(state.ctx);
    const repo = await openRepository(store.location, {
      create: true,
      store,
      leases,
      ...(withCatalog ? { catalog: (key: string) => new StateRepositoryCatalog(state.ctx, key) } : {}),
    });
    return { repo, close: async () => (await repo.close(), leases.stop()) };
  };

  /** Backs up A (one point), hides fresh objects from listings, backs up B, forgets A's point and runs gc. */
  const scenario = async (t: import('node:test').TestContext, name: string, withCatalog: boolean) => {
    const repoPath = join(state.dir, name);
    const store = new FreshHidingStore(new LocalBlobStore(repoPath));
    const node = await openOn(store, withCatalog);
    t.after(node.close);
    await writeImage(join(state.dir, `${name}-a.img`), ['random', 'random']);
    await writeImage(join(state.dir, `${name}-b.img`), ['random', 'zero', 'text']);
    const a = await backUpImage(node.repo, 'vm-a', join(state.dir, `${name}-a.img`));
    store.hideFresh();
    const b = await backUpImage(node.repo, 'vm-b', join(state.dir, `${name}-b.img`));
    await node.repo.forget([a.manifest.id]);
    return { repoPath, store, node, b, gc: await node.repo.gc() };
  };

  test('gc with the state catalog deletes the forgotten point\'s pack and never the packs of a point the listing hides', async (t) => {
    const { repoPath, store, node, b, gc } = await scenario(t, 'with-catalog', true);
    assert.equal(gc.packsDeleted, 1, 'the forgotten point A had one pack of its own');
    const bytes = await restoreToBuffer(node.repo, b.manifest);
    assert.ok(bytes.equals(await readFile(join(state.dir, 'with-catalog-b.img'))), 'B restores its own bytes after gc');
    const check = await node.repo.check({ readData: true });
    assert.deepEqual(check.problems, []);
    assert.equal(check.manifests, 1);
    assert.ok(check.blocksChecked >= 2);
    // Another process on the same state store and blob store sees B, though a listing shows no manifest and no index.
    assert.deepEqual(await store.list('manifests/'), []);
    assert.deepEqual(await store.list('index/'), []);
    const other = await openOn(store, true);
    t.after(other.close);
    assert.deepEqual((await other.repo.listManifests()).map((m) => m.id), [b.manifest.id]);
    const manifest = await other.repo.readManifest(b.manifest.id);
    assert.ok(manifest);
    assert.ok((await restoreToBuffer(other.repo, manifest)).equals(bytes));
    for (const key of await store.list('packs/')) assert.ok(existsSync(join(repoPath, indexKey(packIdOfPackKey(key)!))), `${key} kept its index`);
  });

  test('without the catalog the same listing makes gc delete the hidden point\'s pack (what the catalog prevents)', async (t) => {
    const { node, b, gc } = await scenario(t, 'listing-only', false);
    assert.ok(gc.packsDeleted >= 2, `gc took the forgotten pack and the hidden one (deleted ${gc.packsDeleted})`);
    await assert.rejects(restoreToBuffer(node.repo, b.manifest), (e: { code?: string }) => e.code === 'CORRUPT');
  });

  test('a repository the catalog never knew (an older openem\'s) is adopted from its listings once, then kept by the catalog', async (t) => {
    const repoPath = join(state.dir, 'adopted');
    const plain = new LocalBlobStore(repoPath);
    const before = await openOn(plain, false);
    await writeImage(join(state.dir, 'adopted.img'), ['text', 'random']);
    const old = await backUpImage(before.repo, 'vm-old', join(state.dir, 'adopted.img'));
    await before.close();
    const store = new FreshHidingStore(new LocalBlobStore(repoPath));
    const node = await openOn(store, true);
    t.after(node.close);
    assert.deepEqual((await node.repo.listManifests()).map((m) => m.id), [old.manifest.id]);
    store.hideFresh();
    await writeImage(join(state.dir, 'adopted-2.img'), ['random']);
    const fresh = await backUpImage(node.repo, 'vm-new', join(state.dir, 'adopted-2.img'));
    assert.deepEqual(await node.repo.gc(), { packsDeleted: 0, bytesFreed: 0 });
    assert.deepEqual((await node.repo.listManifests()).map((m) => m.id).sort(), [old.manifest.id, fresh.manifest.id].sort());
    assert.deepEqual((await node.repo.check({ readData: true })).problems, []);
  });
}

describe('the repository catalog on SQLite', () => behaviours(async () => ({})));

describe('the repository catalog on PostgreSQL', () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startTestPostgres();
  });
  after(async () => pg?.stop());
  behaviours(async () => ({ databaseUrl: await pg.newDatabaseUrl() }));
});
