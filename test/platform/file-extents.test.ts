import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFilefrag } from '../../src/platform/local/file-extents.js';

const MiB = 1024 * 1024;

test('filefrag output becomes byte extents, cut at the file size, delayed allocations included', () => {
  const out = [
    'Filesystem type is: ef53',
    'File size of /d/disk0.img is 10485760 (2560 blocks of 4096 bytes)',
    ' ext:     logical_offset:        physical_offset: length:   expected: flags:',
    '   0:        0..     255:      34816..     35071:    256:            ',
    '   1:      768..    1279:          0..         0:      0:             last,unknown_loc,delalloc,eof',
    '/d/disk0.img: 2 extents found',
  ].join('\n');
  assert.deepEqual(parseFilefrag(out, 10 * MiB - 100), [
    { offset: 0, length: MiB },
    { offset: 3 * MiB, length: 2 * MiB },
  ]);
  assert.deepEqual(parseFilefrag('File size of /d/e is 0 (0 blocks of 4096 bytes)\n/d/e: 0 extents found\n', 0), []);
});

test('filefrag output that is not fully understood is not trusted (the file is then read whole)', () => {
  assert.equal(parseFilefrag('File size of /x is 3145728 (768 blocks of 4096 bytes)\n/x: FIBMAP/FIEMAP unsupported\n', 3 * MiB), undefined);
  const strangeRow = 'File size of /x is 8192 (2 blocks of 4096 bytes)\n   0:        0..       0:      1..      1:      1: \n   1: ?\n/x: 2 extents found\n';
  assert.equal(parseFilefrag(strangeRow, 8192), undefined);
  assert.equal(parseFilefrag('File size of /x is 8192 (2 blocks of 4096 bytes)\n   0:        0..       0:      1..      1:      1: \n', 8192), undefined, 'cut short');
  assert.equal(parseFilefrag('garbage', 8192), undefined);
});
