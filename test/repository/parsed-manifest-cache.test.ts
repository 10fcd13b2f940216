// The parsed-manifest cache is bounded by block entries: the least recently used manifests go first to stay under it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParsedManifestCache } from '../../src/repository/parsed-manifest-cache.js';
import type { RestorePointManifest } from '../../src/repository/repository.js';

const manifest = (id: string, blocks: number) =>
  ({ formatVersion: 1, id, disks: [{ name: 'disk0', size: blocks * 2 ** 20, blocks: Array.from({ length: blocks }, () => null) }] }) as unknown as RestorePointManifest;

test('the cache keeps at most its bound of block entries, evicting the least recently used', () => {
  const cache = new ParsedManifestCache(10);
  cache.set(manifest('a', 4));
  cache.set(manifest('b', 4));
  assert.ok(cache.get('a'), 'a read moves a to the most recently used end');
  cache.set(manifest('c', 4));
  assert.deepEqual(cache.ids(), ['a', 'c'], 'b, least recently used, went to make room');
  cache.set(manifest('huge', 11));
  assert.deepEqual(cache.ids(), ['a', 'c'], 'a manifest over the whole bound is not kept');
  cache.delete('a');
  cache.set(manifest('d', 7));
  assert.deepEqual(cache.ids(), ['d'], 'deleting gives back its entries; c went for d');
});

test('manifests without blocks count one entry each, so any number of them stays bounded', () => {
  const cache = new ParsedManifestCache(10);
  for (let i = 0; i < 100; i++) cache.set(manifest(`empty${i}`, 0));
  assert.equal(cache.ids().length, 10);
  assert.deepEqual(cache.ids().slice(0, 1), ['empty90'], 'the least recently used went first');
});
