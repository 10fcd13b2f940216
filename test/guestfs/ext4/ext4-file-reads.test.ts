import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFileReads } from '../../../src/guestfs/ext4/ext4-file-reads.js';

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
