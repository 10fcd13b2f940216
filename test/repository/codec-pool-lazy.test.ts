import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockCodecPool } from '../../src/repository/block-codec-pool.js';
import { hashBlock } from '../../src/repository/block-hash.js';

test('the codec pool starts its workers with its first job, not when it is made', async (t) => {
  const pool = new BlockCodecPool('blake3', 2);
  t.after(() => pool.close());
  assert.equal(pool.size, 2);
  assert.equal(pool.started, 0, 'an idle pool (a server that has not read a block yet) runs no worker');
  const data = Buffer.from('a block');
  const buf = new ArrayBuffer(data.length);
  new Uint8Array(buf).set(data);
  assert.deepEqual(await pool.hash(buf, [[0, data.length]], false), [hashBlock('blake3', data)]);
  assert.equal(pool.started, 2);
});

test('a pool closed before any job never starts a worker and refuses jobs', async () => {
  const pool = new BlockCodecPool('blake3', 2);
  await pool.close();
  assert.equal(pool.started, 0);
  await assert.rejects(pool.hash(new ArrayBuffer(8), [[0, 8]], false), { code: 'UNAVAILABLE' });
});

test('jobs sent one after another alternate between equally idle workers', async (t) => {
  const pool = new BlockCodecPool('blake3', 2);
  t.after(() => pool.close());
  const buf = new ArrayBuffer(4096);
  for (let i = 0; i < 6; i++) await pool.hash(buf, [[0, 4096]], false);
  assert.deepEqual(pool.jobsSent, [3, 3], 'a tie between idle workers must not always go to the first');
});
