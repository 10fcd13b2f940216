// The behaviour every BlobStore keeps (src/repository/blob-store.ts), as one suite each store runs through its
// factory (blob-store-contract.test.ts): the local folder now, S3 (issue #14) by adding one factory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { BlobStore } from '../../src/repository/blob-store.js';
import { openBlobStore } from '../../src/repository/stores/open-blob-store.js';
import { putChildContent } from './blob-store-put-content.js';

export interface BlobStoreUnderTest {
  store: BlobStore;
  /** Where the store is, as `openBlobStore` takes it: a crashing writer process opens it from there. */
  location: string;
  cleanup(): Promise<void>;
}

export interface BlobStoreFactory {
  name: string;
  /** A fresh, empty store. */
  create(): Promise<BlobStoreUnderTest>;
}

const CHILD = fileURLToPath(new URL('./blob-store-put-child.ts', import.meta.url));

const hasCode = (code: string) => (e: unknown) => {
  assert.equal((e as { code?: string }).code, code, String(e));
  return true;
};

/** Runs the contract against fresh stores from `factory`; call at the top level of a test file. */
export function blobStoreContract(factory: BlobStoreFactory): void {
  const withStore = (name: string, body: (s: BlobStoreUnderTest) => Promise<void>) =>
    test(`${factory.name}: ${name}`, async (t) => {
      const s = await factory.create();
      t.after(() => s.cleanup());
      await body(s);
    });

  withStore('put then get returns the bytes, whole and from several parts; stat and exists see the object', async ({ store }) => {
    const data = randomBytes(300_000);
    await store.put('packs/ab/one.pack', data);
    assert.deepEqual(await store.get('packs/ab/one.pack'), data);
    const parts = [randomBytes(10), Buffer.alloc(0), randomBytes(70_000), randomBytes(1)];
    await store.put('index/two.idx', parts);
    assert.deepEqual(await store.get('index/two.idx'), Buffer.concat(parts));
    assert.deepEqual(await store.stat('packs/ab/one.pack'), { size: data.length });
    assert.equal(await store.exists('index/two.idx'), true);
    await store.put('empty', Buffer.alloc(0));
    assert.equal((await store.get('empty')).length, 0);
    assert.deepEqual(await store.stat('empty'), { size: 0 });
  });

  withStore('a ranged get returns exactly that range, and a range past the end the bytes up to the end', async ({ store }) => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    await store.put('packs/cd/big.pack', data);
    for (const [offset, length] of [
      [0, 1],
      [1, 4096],
      [1024 * 1024 - 3, 7],
      [2 * 1024 * 1024, 1024 * 1024 + 17],
      [data.length - 1, 1],
    ]) {
      assert.deepEqual(await store.get('packs/cd/big.pack', { offset, length }), data.subarray(offset, offset + length), `range ${offset}+${length}`);
    }
    assert.deepEqual(await store.get('packs/cd/big.pack', { offset: data.length - 5, length: 100 }), data.subarray(data.length - 5));
  });

  withStore('list answers every key under a prefix, recursively, and nothing else', async ({ store }) => {
    const keys = ['packs/00/a.pack', 'packs/00/b.pack', 'packs/ff/c.pack', 'index/a.idx', 'manifests/m1.json', 'config.json'];
    for (const k of keys) await store.put(k, Buffer.from(k));
    assert.deepEqual((await store.list('packs/')).sort(), keys.filter((k) => k.startsWith('packs/')).sort());
    assert.deepEqual((await store.list('packs/00/')).sort(), ['packs/00/a.pack', 'packs/00/b.pack']);
    assert.deepEqual((await store.list('')).sort(), [...keys].sort());
    assert.deepEqual(await store.list('nothing-here/'), []);
  });

  withStore('delete removes an object, and deleting what is gone is no error', async ({ store }) => {
    await store.put('manifests/x.json', Buffer.from('{}'));
    await store.delete('manifests/x.json');
    assert.equal(await store.exists('manifests/x.json'), false);
    assert.equal(await store.stat('manifests/x.json'), undefined);
    assert.deepEqual(await store.list('manifests/'), []);
    await store.delete('manifests/x.json');
    await store.delete('never/was.json');
  });

  withStore('objects are immutable values: changing a buffer put or got changes nothing stored, and a put replaces an object whole', async ({ store }) => {
    const data = Buffer.from('the original bytes');
    await store.put('manifests/v.json', data);
    data.fill(0);
    const got = await store.get('manifests/v.json');
    assert.equal(got.toString(), 'the original bytes');
    got.fill(1);
    assert.equal((await store.get('manifests/v.json')).toString(), 'the original bytes');
    await store.put('manifests/v.json', Buffer.from('new'));
    assert.equal((await store.get('manifests/v.json')).toString(), 'new');
    assert.deepEqual(await store.stat('manifests/v.json'), { size: 3 });
  });

  withStore('a missing object is NOT_FOUND, a malformed key BAD_REQUEST', async ({ store }) => {
    await assert.rejects(store.get('packs/00/missing.pack'), hasCode('NOT_FOUND'));
    await assert.rejects(store.get('packs/00/missing.pack', { offset: 0, length: 10 }), hasCode('NOT_FOUND'));
    assert.equal(await store.stat('packs/00/missing.pack'), undefined);
    assert.equal(await store.exists('packs/00/missing.pack'), false);
    for (const key of ['', '/etc/passwd', '../outside', 'packs/../../outside', 'packs//double', 'packs/./x']) {
      await assert.rejects(store.put(key, Buffer.from('x')), hasCode('BAD_REQUEST'), JSON.stringify(key));
      await assert.rejects(store.get(key), hasCode('BAD_REQUEST'), JSON.stringify(key));
    }
  });

  withStore('a writer killed in the middle of a put leaves the old object or the new one whole, never a part, and nothing half-written listed', async ({ store, location }) => {
    let killedMidPut = 0;
    for (let round = 0; round < 6; round++) {
      const key = `packs/${round % 2 ? 'aa' : 'bb'}/${randomUUID()}.pack`;
      const old = round % 2 === 1 ? Buffer.from(`the old object ${round}`) : undefined;
      if (old) await store.put(key, old);
      const seed = randomBytes(4).readUInt32LE();
      const mib = 24;
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, location, key, String(mib), String(seed)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (b) => (out += b));
      const exited = new Promise((r) => child.once('exit', r));
      const deadline = Date.now() + 60_000;
      while (!out.includes('putting')) {
        assert.ok(Date.now() < deadline && child.exitCode === null, `the writer did not start: ${out}`);
        await new Promise((r) => setTimeout(r, 2));
      }
      // Round by round a little later into the put.
      await new Promise((r) => setTimeout(r, round * 15));
      child.kill('SIGKILL');
      await exited;
      if (!out.includes('put done')) killedMidPut++;

      const after = openBlobStore(location);
      const listed = await after.list('packs/');
      const stat = await after.stat(key);
      if (stat === undefined) {
        assert.equal(old, undefined, 'the old object vanished');
        assert.equal(listed.includes(key), false);
        await assert.rejects(after.get(key), hasCode('NOT_FOUND'));
      } else {
        const bytes = await after.get(key);
        const whole = putChildContent(mib, seed);
        assert.ok(bytes.equals(whole) || (old !== undefined && bytes.equals(old)), `round ${round}: a part of an object is visible (${bytes.length} bytes)`);
        assert.equal(stat.size, bytes.length);
        assert.ok(listed.includes(key));
      }
      for (const k of listed) assert.ok(k.endsWith('.pack') && !k.includes('tmp'), `a half-written object is listed: ${k}`);
    }
    assert.ok(killedMidPut >= 1, 'no round killed the writer before its put completed: the test proved nothing');
  });
}
