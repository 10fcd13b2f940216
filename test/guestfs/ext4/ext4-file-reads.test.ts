import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { planFileReads, STREAM_READ_CHUNK, streamPlanned } from '../../../src/guestfs/ext4/ext4-file-reads.js';
import { BLOCK_SIZE, type BlockSource } from '../../../src/disks/block-source.js';

const bs = 4096;

test('contiguous extents become large source reads, capped at the chunk size', () => {
  const runs = [{ logical: 0, physical: 1000, length: 5000, uninit: false }]; // ~19.5 MiB
  const steps = [...planFileReads(runs, bs, 0, 5000 * bs)];
  assert.deepEqual(steps.map((s) => s.length), [8 << 20, 8 << 20, 5000 * bs - (16 << 20)]);
  assert.deepEqual(steps[0], { kind: 'data', offset: 1000 * bs, length: 8 << 20 });
  assert.equal(steps[1].kind === 'data' && steps[1].offset, 1000 * bs + (8 << 20));
});

test('holes and unwritten extents are zero steps; a range starting mid-block reads from there', () => {
  const runs = [
    { logical: 2, physical: 50, length: 2, uninit: false },
    { logical: 4, physical: 80, length: 1, uninit: true },
  ];
  assert.deepEqual([...planFileReads(runs, bs, 100, 7 * bs)], [
    { kind: 'zero', length: 2 * bs - 100 },
    { kind: 'data', offset: 50 * bs, length: 2 * bs },
    { kind: 'zero', length: bs },
    { kind: 'zero', length: 2 * bs },
  ]);
  assert.deepEqual([...planFileReads(runs, bs, 3 * bs + 10, 3 * bs + 20)], [{ kind: 'data', offset: 51 * bs + 10, length: 10 }]);
});

/** A disk held in memory that counts the bytes asked of it, and can hold its answers back until released. */
class CountingSource implements BlockSource {
  requested = 0;
  constructor(private readonly data: Buffer) {}
  get size(): number {
    return this.data.length;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    this.requested += length;
    return this.data.subarray(offset, offset + length);
  }
  async allocatedExtents() {
    return [{ offset: 0, length: this.data.length }];
  }
  async close(): Promise<void> {}
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

test('a file stream honours backpressure: with nobody reading it stops after its read-ahead, and it never runs further ahead than that', async () => {
  const chunk = 64 * 1024;
  const data = randomBytes(64 * chunk);
  const source = new CountingSource(data);
  const runs = [{ logical: 0, physical: 0, length: data.length / bs, uninit: false }];
  const stream = streamPlanned(source, planFileReads(runs, bs, 0, data.length, chunk), { chunk, readsAhead: 3 });
  // What may be read and not yet taken: the chunk buffered, the one being delivered, and the reads ahead.
  const bound = (3 + 2) * chunk;

  stream.once('readable', () => undefined); // starts the flow of reads without taking anything
  const deadline = Date.now() + 10_000;
  while (stream.readableLength < chunk) {
    assert.ok(Date.now() < deadline, 'the stream buffered its first chunk');
    await turns(1);
  }
  await turns(50);
  assert.ok(source.requested <= bound, `${source.requested} bytes read with nothing consumed (bound ${bound})`);
  assert.ok(source.requested < data.length / 4);

  const parts: Buffer[] = [];
  let taken = 0;
  for await (const c of stream) {
    taken += (c as Buffer).length;
    parts.push(c as Buffer);
    assert.ok(source.requested - taken <= bound, `${source.requested - taken} bytes read ahead of the consumer (bound ${bound})`);
    await turns(5); // a slow consumer
  }
  assert.equal(source.requested, data.length);
  assert.ok(Buffer.concat(parts).equals(data));
});

test('a download streams in reads of one repository block each, aligned to the blocks', () => {
  assert.equal(STREAM_READ_CHUNK, BLOCK_SIZE);
  const runs = [{ logical: 0, physical: 300, length: 1024, uninit: false }]; // 4 MiB from 300 * 4 KiB, not block-aligned
  const steps = [...planFileReads(runs, bs, 0, 1024 * bs, STREAM_READ_CHUNK, true)];
  assert.deepEqual(steps[0], { kind: 'data', offset: 300 * bs, length: 2 * BLOCK_SIZE - 300 * bs });
  for (const s of steps) {
    assert.equal(s.kind, 'data');
    if (s.kind === 'data') assert.equal(Math.floor(s.offset / BLOCK_SIZE), Math.floor((s.offset + s.length - 1) / BLOCK_SIZE), `${s.offset}+${s.length} stays in one block`);
  }
  assert.equal(steps.reduce((n, s) => n + s.length, 0), 1024 * bs);
  assert.equal(steps.length, 5);
});
