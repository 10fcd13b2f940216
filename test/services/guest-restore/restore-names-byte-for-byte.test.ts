// Issue 9 §1: whatever bytes a guest's names and symlink targets hold (quotes, `!`, newlines, 255-byte names,
// 4095-byte targets, invalid UTF-8), a restore writes exactly those bytes: read from a restore-point-like image
// by openem's reader, planned, written through fuse2fs, and read back by the reader, compared byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Fuse2fsWriter } from '../../../src/guestfs/ext4/fuse2fs-writer.js';
import { planGuestItem } from '../../../src/services/guest-restore/plan-guest-item.js';
import { e2fsckClean, makeImage, tempDir } from '../../guestfs/fixtures/ext4-images.js';
import { guestSnapshot, withImageReader } from '../../guestfs/fixtures/guest-snapshot.js';

/** Bytes a debugfs batch line choked on, and bytes that are not UTF-8. */
const NASTY = [0x22, 0x21, 0x0a, 0x0d, 0x20, 0x23, 0x5c, 0x27, 0x3b, 0x24, 0xff, 0xfe, 0xc3, 0x80, 0xed, 0xa0];
const byte = (exclude: number[]) => fc.oneof(fc.constantFrom(...NASTY.filter((b) => !exclude.includes(b))), fc.integer({ min: 1, max: 255 }).filter((b) => !exclude.includes(b)));
const bytes = (min: number, max: number, exclude: number[]) => fc.array(byte(exclude), { minLength: min, maxLength: max }).map((a) => Buffer.from(a));

const nameArb = fc
  .oneof(bytes(1, 16, [0x2f]), bytes(255, 255, [0x2f]))
  .filter((n) => !n.equals(Buffer.from('.')) && !n.equals(Buffer.from('..')));
const targetArb = fc.oneof(bytes(1, 59, []), bytes(60, 300, []), bytes(4095, 4095, []));

type Entry = { name: Buffer } & ({ kind: 'file'; content: Buffer } | { kind: 'symlink'; target: Buffer } | { kind: 'dir'; inner: Buffer[] });
const entryArb: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({ name: nameArb, kind: fc.constant('file' as const), content: fc.uint8Array({ maxLength: 5000 }).map((a) => Buffer.from(a)) }),
  fc.record({ name: nameArb, kind: fc.constant('symlink' as const), target: targetArb }),
  fc.record({ name: nameArb, kind: fc.constant('dir' as const), inner: fc.uniqueArray(nameArb, { maxLength: 3, selector: (n) => n.toString('hex') }) }),
);

/** Builds `<dir>/t/...` on the host with Buffer paths (every byte survives) and returns `<dir>/t`. */
function buildTree(dir: string, entries: Entry[]): void {
  const t = Buffer.from(join(dir, 'tree', 't'));
  mkdirSync(t, { recursive: true });
  const at = (...names: Buffer[]) => Buffer.concat([t, ...names.flatMap((n) => [Buffer.from('/'), n])]);
  for (const e of entries) {
    if (e.kind === 'file') writeFileSync(at(e.name), e.content);
    else if (e.kind === 'symlink') symlinkSync(e.target, at(e.name));
    else {
      mkdirSync(at(e.name));
      for (const n of e.inner) writeFileSync(at(e.name, n), n);
    }
  }
}

test('names and symlink targets of any bytes are restored byte for byte (property)', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'target.img');
  makeImage(target, undefined, { size: '64M', mkfsArgs: ['-b', '4096'] });
  const writer = new Fuse2fsWriter({ imagePath: target, offset: 0, workRoot: join(dir, 'flr-work') });
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(entryArb, { minLength: 1, maxLength: 8, selector: (e) => e.name.toString('hex') }), async (entries) => {
      const runDir = join(dir, `run${run++}`);
      buildTree(runDir, entries);
      const source = join(runDir, 'source.img');
      makeImage(source, join(runDir, 'tree'), { size: '16M', mkfsArgs: ['-b', '4096'] });
      await withImageReader(source, 0, async (fs) => {
        const planned = await planGuestItem(fs, (await fs.stat('/t'))!);
        // Replacing `/t` each run also exercises the folder swap.
        await writer.write({ parent: [], item: planned.item, onExisting: 'replace' });
      });
      const t = [Buffer.from('t')];
      const expected = await guestSnapshot(source, 0, t);
      assert.equal(expected.length, entries.reduce((n, e) => n + 1 + (e.kind === 'dir' ? e.inner.length : 0), 0), 'the source holds every generated entry');
      assert.deepEqual(await guestSnapshot(target, 0, t), expected);
    }),
    { numRuns: 25, seed: 9, endOnFailure: true },
  );
  const fsck = e2fsckClean(target);
  assert.ok(fsck.clean, fsck.output);
});
