import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RenderedListings } from '../../../src/services/mounts/rendered-listings.js';

const piece = (bytes: number, fill = 0x61) => Buffer.alloc(bytes, fill);

/** Records a listing of `pieces` pieces of `bytes` each under `key` of `mount`, whole. */
function send(cache: RenderedListings, mount: string, key: string, pieces: number, bytes: number): void {
  const r = cache.forMount(mount).record(key);
  for (let i = 0; i < pieces; i++) r.add(piece(bytes));
  r.complete();
}

test('a listing sent whole is kept and sent again as it was; one cut off half way is not kept', () => {
  const cache = new RenderedListings(1024 * 1024);
  const m = cache.forMount('m1');
  const r = m.record('/many xml');
  r.add(Buffer.from('<a>'));
  r.add(Buffer.from('</a>'));
  assert.equal(m.get('/many xml'), undefined, 'nothing is kept before the listing is whole');
  r.complete();
  assert.deepEqual(m.get('/many xml')?.map((b) => b.toString()), ['<a>', '</a>']);
  assert.equal(cache.bytes, 7);
  assert.equal(cache.hits, 1);
  const cut = m.record('/other xml');
  cut.add(piece(10));
  assert.equal(m.get('/other xml'), undefined, 'a client that went away half way leaves nothing kept');
  assert.equal(cache.bytes, 7);
});

test('kept listings are bounded by bytes over all mounts, the least recently sent going first, and a listing over a quarter of the bound is never kept', () => {
  const cache = new RenderedListings(1000);
  send(cache, 'm1', 'a', 2, 100);
  send(cache, 'm2', 'b', 2, 100);
  send(cache, 'm1', 'c', 2, 100);
  assert.equal(cache.bytes, 600);
  assert.ok(cache.forMount('m1').get('a'), 'a is now the most recently sent');
  send(cache, 'm2', 'd', 2, 100);
  send(cache, 'm2', 'e', 2, 100);
  assert.equal(cache.bytes, 1000);
  assert.equal(cache.size, 5);
  send(cache, 'm1', 'f', 1, 150);
  assert.ok(cache.bytes <= 1000, `${cache.bytes} bytes kept`);
  assert.equal(cache.forMount('m2').get('b'), undefined, 'the least recently sent went first');
  assert.ok(cache.forMount('m1').get('a'), 'the one sent again stayed');
  send(cache, 'm1', 'big', 2, 126);
  assert.equal(cache.forMount('m1').get('big'), undefined, '252 bytes is over a quarter of 1000');
  send(cache, 'm1', 'a', 1, 50);
  assert.equal(cache.forMount('m1').get('a')?.length, 1, 'a listing kept again replaces the old one');
  assert.ok(cache.bytes <= 1000);
});

test("a mount's kept listings go when it ends, and only its", () => {
  const cache = new RenderedListings(10_000);
  send(cache, 'm1', '/many xml', 3, 100);
  send(cache, 'm1', '/many json', 3, 100);
  send(cache, 'm2', '/many xml', 3, 100);
  cache.drop('m1');
  assert.equal(cache.forMount('m1').get('/many xml'), undefined);
  assert.equal(cache.forMount('m1').get('/many json'), undefined);
  assert.ok(cache.forMount('m2').get('/many xml'), "the other mount's listing of the same folder stays");
  assert.equal(cache.bytes, 300);
  cache.drop('m2');
  assert.equal(cache.bytes, 0);
  assert.equal(cache.size, 0);
});

test('a listing that completes after its mount ended is not kept', () => {
  const cache = new RenderedListings(10_000);
  const r = cache.forMount('m1').record('/many xml');
  r.add(piece(100));
  cache.drop('m1');
  r.complete();
  assert.equal(cache.bytes, 0, 'nothing would ever drop it again');
  assert.equal(cache.size, 0);
  send(cache, 'm1', '/many xml', 1, 100);
  assert.equal(cache.size, 1, 'a mount handed out again keeps its listings');
});
