import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCK_SIZE, type BlockSource, type Extent } from '../../src/disks/block-source.js';
import { CHUNK_BLOCKS, READS_IN_FLIGHT, SourceChunkReader } from '../../src/repository/source-chunk-reader.js';

/** Reads fill each byte with its chunk's number; held reads wait until `releaseAll`; counts reads at once. */
class HeldSource implements BlockSource {
  inFlight = 0;
  maxInFlight = 0;
  reads = 0;
  private held: (() => void)[] = [];
  holding = true;

  constructor(
    readonly size: number,
    private readonly failAt?: number,
  ) {}

  async read(): Promise<Buffer> {
    throw new Error('the reader reads into its buffers');
  }

  async readInto(offset: number, target: Uint8Array): Promise<void> {
    this.reads++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.holding) await new Promise<void>((r) => this.held.push(r));
      if (offset === this.failAt) throw new Error(`read at ${offset} failed`);
      target.fill((offset / (CHUNK_BLOCKS * BLOCK_SIZE)) % 256);
    } finally {
      this.inFlight--;
    }
  }

  releaseAll(): void {
    this.holding = false;
    for (const r of this.held.splice(0)) r();
  }

  async allocatedExtents(): Promise<Extent[]> {
    return [{ offset: 0, length: this.size }];
  }

  async close(): Promise<void> {}
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

test('the chunk reader keeps several reads in flight, and hands the chunks over in disk order with their bytes', async () => {
  const chunks = 12;
  const source = new HeldSource(chunks * CHUNK_BLOCKS * BLOCK_SIZE);
  const reader = new SourceChunkReader(source, 6);
  const seen: number[] = [];
  const done = reader.forEachChunk(async (c) => {
    const bytes = new Uint8Array(c.buf, 0, c.byteLength);
    const n = c.firstBlock / CHUNK_BLOCKS;
    assert.ok(bytes.every((b) => b === n), `chunk ${n} holds its own bytes`);
    seen.push(n);
  });
  // No read has finished: as many as the reader will start are started now.
  await turns(50);
  assert.equal(source.inFlight, READS_IN_FLIGHT, `${READS_IN_FLIGHT} reads wait on the source at once, not one after another`);
  source.releaseAll();
  await done;
  assert.equal(source.reads, chunks);
  assert.equal(source.maxInFlight, READS_IN_FLIGHT);
  assert.deepEqual(seen, Array.from({ length: chunks }, (_, i) => i), 'every chunk once, in order');
});

test('a small ring bounds the reads in flight (one buffer stays for the consumer)', async () => {
  const source = new HeldSource(10 * CHUNK_BLOCKS * BLOCK_SIZE);
  const reader = new SourceChunkReader(source, 3);
  const done = reader.forEachChunk(async () => undefined);
  await turns(50);
  assert.equal(source.inFlight, 2);
  source.releaseAll();
  await done;
  assert.equal(source.maxInFlight, 2);
});

test('a failed read among those in flight fails the pass once the others ended, and every buffer is back in the ring', async () => {
  const ring = 6;
  const source = new HeldSource(12 * CHUNK_BLOCKS * BLOCK_SIZE, 2 * CHUNK_BLOCKS * BLOCK_SIZE);
  const reader = new SourceChunkReader(source, ring);
  let worked = 0;
  const done = reader.forEachChunk(async () => {
    worked++;
  });
  await turns(50);
  source.releaseAll();
  await assert.rejects(done, /read at 16777216 failed/);
  assert.equal(source.inFlight, 0, 'no read runs after the pass ended');
  assert.equal(worked, 2, 'the chunks before the failed one were worked on, none after');
  // Every buffer came back to the ring.
  const ringState = reader as unknown as { free: SharedArrayBuffer[]; made: number };
  assert.ok(ringState.made > 0 && ringState.made <= ring);
  assert.equal(ringState.free.length, ringState.made, 'all ring buffers made are free');
});

test('the ring is made as reads need it, and scattered blocks (what CBT reports) get buffers as long as the longest range, not whole chunks', async () => {
  const source = new HeldSource(64 * CHUNK_BLOCKS * BLOCK_SIZE);
  source.releaseAll();
  // 30 single blocks 10 apart, and one of two blocks.
  const blocks = [...Array.from({ length: 30 }, (_, i) => 3 + 10 * i), 400];
  const extents = blocks.map((b) => ({ offset: b * BLOCK_SIZE, length: b === 400 ? 2 * BLOCK_SIZE : BLOCK_SIZE }));
  const reader = new SourceChunkReader(source, 10, extents);
  const seen: number[] = [];
  await reader.forEachChunk(async (c) => {
    assert.equal(c.buf.byteLength, 2 * BLOCK_SIZE, 'a buffer as long as the longest range (two blocks), not a whole chunk');
    seen.push(c.firstBlock);
  });
  assert.deepEqual(seen, blocks);
  const ringState = reader as unknown as { made: number };
  assert.ok(ringState.made <= READS_IN_FLIGHT + 1, `at most the reads in flight and one for the consumer are made (${ringState.made}), not the ring of 10`);
});
