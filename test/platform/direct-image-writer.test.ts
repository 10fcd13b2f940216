// The full restore's writer (issue #11 goal 4): page-cache-bypassing writes of a fresh image, batched in aligned
// memory. Whatever the order and however many writes are in flight, the bytes land where they were sent and the
// blocks never written stay holes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DirectImageWriter } from '../../src/platform/local/direct-image-writer.js';
import { alignedSharedMemory } from '../../src/disks/aligned-memory.js';
import { tempDir } from './local-fixtures.js';

const MIB = 1024 * 1024;

async function holeImage(size: number): Promise<string> {
  const path = join(await tempDir(), 'disk.img');
  const fh = await open(path, 'w');
  await fh.truncate(size);
  await fh.close();
  return path;
}

/** Fisher-Yates with a fixed seed: the same shuffled order every run. */
function shuffled(n: number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  let seed = 7;
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

test('97 blocks, a third of them never written and the last one short, written out of order thirty at a time, land at their offsets; unwritten blocks stay holes', async () => {
  const blocks = 97;
  const size = (blocks - 1) * MIB + 1000; // the last block is short: written padded, the file cut back
  const path = await holeImage(size);
  const data = new Map<number, Buffer>();
  for (let i = 0; i < blocks; i++) if (i % 3 !== 2 || i === blocks - 1) data.set(i, randomBytes(i === blocks - 1 ? 1000 : MIB));
  const w = await DirectImageWriter.open(path, size);
  // Runs of neighbours (as a pack range yields them) interleaved with scattered blocks, many writes in flight.
  const order = [...shuffled(blocks).filter((i) => i >= 40), ...Array.from({ length: 40 }, (_, i) => i)].filter((i) => data.has(i));
  for (let at = 0; at < order.length; at += 30) await Promise.all(order.slice(at, at + 30).map((i) => w.write(i * MIB, data.get(i)!)));
  await w.sync();
  await w.close();
  const bytes = await readFile(path);
  assert.equal(bytes.length, size);
  for (let i = 0; i < blocks; i++) {
    const at = bytes.subarray(i * MIB, Math.min(size, (i + 1) * MIB));
    const want = data.get(i);
    if (want) assert.ok(at.equals(want), `block ${i} holds what was written`);
    else assert.ok(at.every((b) => b === 0), `block ${i} reads as zeros`);
  }
  const st = await stat(path);
  const unwritten = blocks - data.size;
  assert.ok(st.blocks * 512 <= size - unwritten * MIB + MIB, `the ${unwritten} unwritten blocks take no space (${st.blocks * 512} bytes allocated)`);
  console.log(`# O_DIRECT on this filesystem: ${w.direct}`);
});

test('blocks already in page-aligned memory are written from there, beside blocks that are copied', async () => {
  const path = await holeImage(16 * MIB);
  const arena = alignedSharedMemory(4 * MIB);
  const w = await DirectImageWriter.open(path, 16 * MIB);
  const want = Array.from({ length: 16 }, () => randomBytes(MIB));
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 16; i++) {
    if (i % 2 === 0) writes.push(w.write(i * MIB, want[i]));
    else {
      // A view of the arena, as Repository.fetchBlocks with alignedBlocks hands over; reused once its write settles.
      const view = Buffer.from(arena, ((i >> 1) % 4) * MIB, MIB);
      if (i >= 9) await writes[i - 8];
      want[i].copy(view);
      writes.push(w.write(i * MIB, view));
    }
  }
  await Promise.all(writes);
  await w.sync();
  await w.close();
  const bytes = await readFile(path);
  for (let i = 0; i < 16; i++) assert.ok(bytes.subarray(i * MIB, (i + 1) * MIB).equals(want[i]), `block ${i}`);
});

test('a write past the end is refused and nothing is written', async () => {
  const path = await holeImage(4 * MIB);
  const w = await DirectImageWriter.open(path, 4 * MIB);
  await assert.rejects(w.write(3 * MIB + 4096, Buffer.alloc(MIB, 1)), { code: 'BAD_REQUEST' });
  await w.close();
  assert.ok((await readFile(path)).every((b) => b === 0));
});

test('a decoded range handed over in a row takes one write call per run of disk neighbours, not one per block', async () => {
  // As a fetch lane hands over a 16-block range of the bench disk (every fourth block a hole): slot i holds block i.
  const path = await holeImage(16 * MIB);
  const arena = alignedSharedMemory(16 * MIB);
  const want = new Map<number, Buffer>();
  for (let i = 0; i < 16; i++) if (i % 4 !== 3) want.set(i, randomBytes(MIB));
  const w = await DirectImageWriter.open(path, 16 * MIB);
  if (!w.direct) {
    await w.close();
    console.log('# no O_DIRECT on this filesystem: blocks go through the batches instead');
    return;
  }
  // Every write call of any file handle is counted (the writer's handle is its own).
  const proto = Object.getPrototypeOf(await open(path, 'r').then(async (fh) => (await fh.close(), fh))) as { write: (...a: unknown[]) => Promise<unknown> };
  const original = proto.write;
  const sizes: number[] = [];
  proto.write = function (this: unknown, ...args: unknown[]) {
    sizes.push(args[2] as number);
    return original.apply(this, args);
  };
  try {
    const writes: Promise<void>[] = [];
    for (const [i, data] of want) {
      const view = Buffer.from(arena, i * MIB, MIB);
      data.copy(view);
      writes.push(w.write(i * MIB, view));
    }
    await Promise.all(writes);
    await w.sync();
  } finally {
    proto.write = original;
    await w.close();
  }
  assert.deepEqual(sizes, [3 * MIB, 3 * MIB, 3 * MIB, 3 * MIB], 'four writes of three blocks each');
  const bytes = await readFile(path);
  for (let i = 0; i < 16; i++) {
    const at = bytes.subarray(i * MIB, (i + 1) * MIB);
    assert.ok(want.has(i) ? at.equals(want.get(i)!) : at.every((b) => b === 0), `block ${i}`);
  }
});
