// The S3 store's faults: throttling and 5xx retried with backoff, a service that stays down or refuses the
// credentials named by code, and damaged objects caught by the block hash on read.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { openRepository } from '../../src/repository/open-repository.js';
import { S3BlobStore, type S3StoreOptions } from '../../src/repository/stores/s3/s3-blob-store.js';
import { backUpImage, restoreToBuffer, tempDir, writeImage } from './repository-fixtures.js';
import { S3RVER_KEY, startS3Server, type S3TestServer } from './s3-test-server.js';

const hasCode = (code: string) => (e: unknown) => {
  assert.equal((e as { code?: string }).code, code, String(e));
  return true;
};

/** A loopback proxy in front of the S3 server that answers the next `failNext` requests with `status`/`code`. */
async function faultProxy(target: string) {
  const state = { failNext: 0, status: 503, code: 'SlowDown', failed: 0, forwarded: 0 };
  const upstream = new URL(target);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (state.failNext > 0) {
      state.failNext--;
      state.failed++;
      req.resume();
      req.on('end', () => {
        res.writeHead(state.status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${state.code}</Code><Message>injected</Message><RequestId>x</RequestId></Error>`);
      });
      return;
    }
    state.forwarded++;
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    state,
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

function storeAt(s3: S3TestServer, endpoint: string, extra: S3StoreOptions = {}): S3BlobStore {
  return new S3BlobStore(s3.bucket, `t-${randomUUID()}/`, {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
    ...extra,
  });
}

test('throttling (503 SlowDown) and 500s are retried with backoff until the request succeeds, on puts, multipart parts, gets and lists', async (t) => {
  const s3 = await startS3Server();
  t.after(() => s3.stop());
  const proxy = await faultProxy(s3.endpoint);
  t.after(() => proxy.stop());
  const store = storeAt(s3, proxy.endpoint, { multipartThreshold: 6 * 1024 * 1024, partSize: 5 * 1024 * 1024 });
  t.after(() => store.destroy());

  const small = randomBytes(4096);
  proxy.state.failNext = 2;
  await store.put('manifests/m.json', small);
  assert.equal(proxy.state.failed, 2);

  proxy.state.failNext = 3;
  proxy.state.status = 500;
  proxy.state.code = 'InternalError';
  const big = randomBytes(12 * 1024 * 1024 + 5);
  await store.put('packs/00/big.pack', big);
  assert.equal(proxy.state.failed, 5);

  proxy.state.failNext = 2;
  proxy.state.status = 503;
  proxy.state.code = 'SlowDown';
  assert.deepEqual(await store.get('packs/00/big.pack', { offset: BLOCK_SIZE, length: 1000 }), big.subarray(BLOCK_SIZE, BLOCK_SIZE + 1000));
  proxy.state.failNext = 1;
  assert.deepEqual((await store.list('')).sort(), ['manifests/m.json', 'packs/00/big.pack']);
  assert.deepEqual(await store.get('packs/00/big.pack'), big);
  assert.equal(proxy.state.failed, 8);
});

test('a service that keeps answering 503 is UNAVAILABLE after the attempts; refused credentials are FORBIDDEN; an unknown bucket NOT_FOUND', async (t) => {
  const s3 = await startS3Server();
  t.after(() => s3.stop());
  const proxy = await faultProxy(s3.endpoint);
  t.after(() => proxy.stop());
  const store = storeAt(s3, proxy.endpoint, { maxAttempts: 3 });
  t.after(() => store.destroy());
  proxy.state.failNext = 1000;
  await assert.rejects(store.put('config.json', Buffer.from('{}')), hasCode('UNAVAILABLE'));
  assert.equal(proxy.state.failed, 3, 'each of the three attempts reached the service');
  await assert.rejects(store.get('config.json'), hasCode('UNAVAILABLE'));

  const wrong = storeAt(s3, s3.endpoint, { credentials: { accessKeyId: 'WRONG', secretAccessKey: 'WRONG' } });
  t.after(() => wrong.destroy());
  await assert.rejects(wrong.put('config.json', Buffer.from('{}')), hasCode('FORBIDDEN'));
  await assert.rejects(wrong.list(''), hasCode('FORBIDDEN'));

  const noBucket = new S3BlobStore('no-such-bucket', '', { endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY } });
  t.after(() => noBucket.destroy());
  await assert.rejects(noBucket.put('config.json', Buffer.from('{}')), hasCode('NOT_FOUND'));
});

test('a repository on S3: a pack object replaced by a damaged or truncated one is CORRUPT on restore and a problem for check --read-data', async (t) => {
  const s3 = await startS3Server();
  t.after(() => s3.stop());
  const dir = await tempDir();
  t.after(dir.cleanup);
  const store = storeAt(s3, s3.endpoint);
  t.after(() => store.destroy());
  const repo = await openRepository(store.location, { create: true, store });
  t.after(() => repo.close());
  const image = join(dir.path, 'c.img');
  await writeImage(image, ['random', 'text', 'random']);
  const { manifest } = await backUpImage(repo, 'vm-c', image);
  assert.deepEqual((await repo.check({ readData: true })).problems, []);
  const { readFile } = await import('node:fs/promises');
  assert.ok((await restoreToBuffer(repo, manifest)).equals(await readFile(image)), 'the restore from S3 has the same bytes');

  const [packKey] = (await store.list('packs/')).filter((k) => k.endsWith('.pack'));
  const original = await store.get(packKey);
  const flipped = Buffer.from(original);
  flipped[8 + BLOCK_SIZE / 2] ^= 0xff; // inside the first block's data
  await store.put(packKey, flipped);
  assert.equal((await repo.check()).ok, true, 'a flipped byte keeps the structure intact');
  const full = await repo.check({ readData: true });
  assert.equal(full.ok, false);
  assert.equal(full.problems.length, 1);
  await assert.rejects(restoreToBuffer(repo, manifest), hasCode('CORRUPT'));

  await store.put(packKey, original.subarray(0, original.length - BLOCK_SIZE / 4));
  assert.equal((await repo.check()).ok, false, 'a truncated pack is a structural problem');
  await assert.rejects(restoreToBuffer(repo, manifest), hasCode('CORRUPT'));

  await store.put(packKey, original);
  assert.deepEqual((await repo.check({ readData: true })).problems, []);
});

test('copyTo copies a local repository to S3 (resuming over what an interrupted copy left) and refuses a target that is a repository (CONFLICT)', async (t) => {
  const s3 = await startS3Server();
  t.after(() => s3.stop());
  const dir = await tempDir();
  t.after(dir.cleanup);
  const repo = await openRepository(join(dir.path, 'repo'), { create: true, packSize: 2 * BLOCK_SIZE });
  t.after(() => repo.close());
  const image = join(dir.path, 'c.img');
  await writeImage(image, ['random', 'text', 'random', 'random', 'text']);
  const { manifest } = await backUpImage(repo, 'vm-c', image);
  Object.assign(process.env, s3.env);
  const url = `s3://${s3.bucket}/copy-${randomUUID()}`;
  const target = S3BlobStore.fromUrl(new URL(url));
  t.after(() => target.destroy());
  // An interrupted earlier copy: one pack is there already, no config.
  const local = await import('../../src/repository/stores/local/local-blob-store.js');
  const source = new local.LocalBlobStore(join(dir.path, 'repo'));
  const [firstPack] = await source.list('packs/');
  await target.put(firstPack, await source.get(firstPack));

  const result = await repo.copyTo(url);
  assert.equal(result.skipped, 1);
  assert.deepEqual((await target.list('')).sort(), (await source.list('')).sort());
  const copy = await openRepository(url, { store: target });
  t.after(() => copy.close());
  assert.deepEqual((await copy.check({ readData: true })).problems, []);
  const { readFile } = await import('node:fs/promises');
  assert.ok((await restoreToBuffer(copy, (await copy.readManifest(manifest.id))!)).equals(await readFile(image)));
  await assert.rejects(repo.copyTo(url), hasCode('CONFLICT'));
});
