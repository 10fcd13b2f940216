import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, type Format } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { entriesOf, mount, pointIdOf } from '../services/mounts/flr-fixture.js';
import { cleanupOf, fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();
const FILES = 3000;
let server: ServerProcess;

before(async () => {
  const dataDir = tempDir(cleanup, 'openem-flr-stream-');
  const src = tempDir(cleanup, 'openem-flr-stream-src-');
  mkdirSync(join(src, 'many'));
  for (let i = 0; i < FILES; i++) writeFileSync(join(src, 'many', `file-${String(i).padStart(5, '0')} & <${i}>.txt`), `entry ${i}\n`);
  await cliOk(dataDir, ['vm', 'create', 'many01', '--from-dir', src, '--size', '64M']);
  await cliOk(dataDir, ['backup', 'many01']);
  server = await startServerProcess({ dataDir });
  cleanup.defer(() => server.stop());
});

/** The raw response of a GET: its body in the pieces the server sent and its headers. */
async function rawGet(c: EmClient, url: string, accept: string): Promise<{ status: number; headers: Headers; pieces: number; text: string }> {
  const res = await fetch(url, { headers: { Accept: accept, 'X-RestSvcSessionId': c.token! } });
  const decoder = new TextDecoder();
  let text = '';
  let pieces = 0;
  for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
    pieces++;
    text += decoder.decode(piece, { stream: true });
  }
  return { status: res.status, headers: res.headers, pieces, text: text + decoder.decode() };
}

for (const format of ['xml', 'json'] as Format[]) {
  test(`a ${FILES}-entry folder listing is streamed as it renders, chunked without a Content-Length, and is whole (${format})`, async (t) => {
    const c = new EmClient(server.http, format);
    await c.logOn();
    const href = await mount(cleanupOf(t), c, await pointIdOf(c, 'many01'));
    const accept = format === 'json' ? 'application/json' : 'application/xml';
    const r = await rawGet(c, `${href}/many?action=listAll`, accept);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('transfer-encoding'), 'chunked');
    assert.equal(r.headers.get('content-length'), null, 'the length is not known before the last entry is rendered');
    assert.ok(r.pieces > 1, `${r.pieces} pieces arrived`);
    if (format === 'xml') assert.equal(XMLValidator.validate(r.text), true);
    const listed = entriesOf(c, format === 'json' ? JSON.parse(r.text) : (await c.get(`${href}/many?action=listAll`)).body);
    assert.equal(listed.files.length, FILES);
    assert.equal(listed.files[7].Name, 'file-00007 & <7>.txt');
    // A resource without a generated list is still sent whole, with its length.
    const one = await rawGet(c, href, accept);
    assert.equal(one.status, 200);
    assert.equal(Number(one.headers.get('content-length')), Buffer.byteLength(one.text));
  });
}

/** A figure of the server's Prometheus metrics. */
async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.http}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  assert.ok(m, `${name} is in /metrics`);
  return Number(m[1]);
}

test('a folder listed again on a mount is sent as it was the first time, from the kept listing, and the mount takes its kept listings with it when it ends', async (t) => {
  const c = new EmClient(server.http, 'xml');
  await c.logOn();
  const href = await mount(cleanupOf(t), c, await pointIdOf(c, 'many01'));
  const keptBefore = await metric('openem_flr_kept_listing_bytes');
  const sentBefore = await metric('openem_flr_kept_listings_sent_total');
  const first = await rawGet(c, `${href}/many?action=listAll`, 'application/xml');
  const kept = (await metric('openem_flr_kept_listing_bytes')) - keptBefore;
  assert.equal(kept, Buffer.byteLength(first.text), 'the listing is kept as sent, byte for byte');
  const again = await rawGet(c, `${href}/many?action=listAll`, 'application/xml');
  assert.equal(again.status, 200);
  assert.equal(again.text, first.text);
  assert.equal(again.headers.get('transfer-encoding'), 'chunked');
  assert.equal(await metric('openem_flr_kept_listings_sent_total'), sentBefore + 1, 'the second listing was sent from the kept one');
  // Another format, page or folder is another listing.
  const json = await rawGet(c, `${href}/many?action=listAll`, 'application/json');
  assert.equal(JSON.parse(json.text).Files.length, FILES);
  const paged = await rawGet(c, `${href}/many?action=listAll&pageSize=10&page=2`, 'application/xml');
  assert.equal(entriesOf(c, (await c.get(`${href}/many?action=listAll&pageSize=10&page=2`)).body).files[0].Name, 'file-00010 & <10>.txt');
  assert.equal(await metric('openem_flr_kept_listings_sent_total'), sentBefore + 2, 'only the repeated paged listing came from the kept ones');
  assert.equal(await metric('openem_flr_kept_listing_bytes'), keptBefore + kept + Buffer.byteLength(json.text) + Buffer.byteLength(paged.text));
  assert.equal((await c.request('DELETE', href)).status, 204);
  assert.equal(await metric('openem_flr_kept_listing_bytes'), keptBefore, "the mount's kept listings went with it");
});
