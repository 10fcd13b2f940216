import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BlockCodecPool } from '../../src/repository/block-codec-pool.js';

/** Threads of this process now (the codec workers' among them). */
const threads = () => readdirSync('/proc/self/task').length;
/** Bytes this process has read so far, every thread: /proc/self/io rchar. */
const bytesRead = () => Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);

test('closing the codec pool mid-read fails the job only once its worker has stopped, so the caller may then close the descriptor', async (t) => {
  const pool = new BlockCodecPool('blake3', 1);
  // /dev/zero never ends: a 64 GiB job keeps the worker reading in 4 MiB preads until it is stopped.
  const fd = openSync('/dev/zero', 'r');
  t.after(() => closeSync(fd));
  const withoutWorker = threads();
  await pool.hash(new ArrayBuffer(8), [[0, 8]], false);
  // A worker is more than one thread (its isolate runs its own event loop); all of them end with it.
  assert.ok(threads() > withoutWorker, 'the pool runs its worker');

  const before = bytesRead();
  const job = pool.hashFile(fd, 0, 64 * 1024 ** 3, 1024 * 1024);
  const deadline = Date.now() + 30_000;
  while (bytesRead() - before < 64 * 1024 * 1024) {
    assert.ok(Date.now() < deadline, 'the worker starts reading the descriptor');
    await new Promise((r) => setTimeout(r, 5));
  }

  let threadsAtFailure = -1;
  const failed = job.then(
    () => assert.fail('a job cut off by close does not succeed'),
    (e: { code?: string }) => {
      threadsAtFailure = threads();
      assert.equal(e.code, 'UNAVAILABLE');
    },
  );
  await pool.close();
  await failed;
  assert.equal(threadsAtFailure, withoutWorker, 'no worker thread is left that could still read the descriptor when its job fails');
  // Nothing reads it any more: the process's reads stand still from here.
  const after = bytesRead();
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(bytesRead() - after < 1024 * 1024, 'no read of the descriptor runs after close');
});
