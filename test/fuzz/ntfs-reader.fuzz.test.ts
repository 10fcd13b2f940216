// A real NTFS volume (made by mkntfs and ntfs-3g) with damaged metadata at openem's NTFS reader: opening,
// walking, statting and reading either work or fail with a catalogue error (CORRUPT, …), never another throw, a
// hang or an allocation out of proportion to the volume (issue #12 §2).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { BlockSource, Extent } from '../../src/disks/block-source.js';
import { isOpenemError } from '../../src/errors.js';
import { NtfsReader } from '../../src/guestfs/ntfs/ntfs-reader.js';
import { makeNtfsImage, setNtfsAttributes, setReparseData, junctionData, withNtfsMounted } from '../guestfs/fixtures/ntfs-images.js';
import { fuzzOptions } from './fuzz-budget.js';

const MiB = 1024 * 1024;
const CODES = new Set(['CORRUPT', 'NOT_FOUND', 'BAD_REQUEST', 'NOT_IMPLEMENTED']);

/** The image in memory, as a block source. */
class MemorySource implements BlockSource {
  constructor(private readonly bytes: Buffer) {}
  get size() {
    return this.bytes.length;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    return this.bytes.subarray(Math.max(0, offset), Math.max(0, Math.min(this.bytes.length, offset + length)));
  }
  async allocatedExtents(): Promise<Extent[]> {
    return [{ offset: 0, length: this.bytes.length }];
  }
  async close() {}
}

let scratch: string;
let image: Buffer;
/** Where the volume's metadata is: the boot sector, every FILE record and every INDX block. */
let regions: { offset: number; length: number }[];

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'openem-ntfs-fuzz-'));
  const path = join(scratch, 'ntfs.img');
  makeNtfsImage(path, 8 * MiB, 4096);
  await withNtfsMounted(path, (m) => {
    mkdirSync(join(m, 'Users/Ann'), { recursive: true });
    writeFileSync(join(m, 'Users/Ann/a.txt'), 'resident\n');
    writeFileSync(join(m, 'Users/Ann/b.bin'), Buffer.alloc(40_000, 7));
    writeFileSync(join(m, 'Users/Ann/a.txt:ads'), 'stream');
    for (let i = 0; i < 120; i++) writeFileSync(join(m, 'Users', `many-${i}`), String(i));
    mkdirSync(join(m, 'Compressed'));
    setNtfsAttributes(join(m, 'Compressed'), 0x810);
    writeFileSync(join(m, 'Compressed/c.txt'), Buffer.from('compress me please '.repeat(5000)));
    const s = openSync(join(m, 'sparse.bin'), 'w');
    writeSync(s, Buffer.alloc(5000, 1), 0, 5000, 2 * MiB);
    closeSync(s);
    symlinkSync('Users/Ann', join(m, 'link'));
    mkdirSync(join(m, 'junction'));
    setReparseData(join(m, 'junction'), junctionData('C:\\Users'));
  });
  // Files made with `permissions` name descriptors shared in $Secure ($SII, $SDS) instead of carrying their own.
  await withNtfsMounted(path, (m) => {
    mkdirSync(join(m, 'Secured'));
    for (let i = 0; i < 5; i++) writeFileSync(join(m, 'Secured', `s${i}.txt`), String(i));
  }, ['permissions']);
  image = readFileSync(path);
  regions = [{ offset: 0, length: 512 }];
  for (let at = 0; at + 1024 <= image.length; at += 512) {
    const magic = image.toString('latin1', at, at + 4);
    if (magic === 'FILE') regions.push({ offset: at, length: 1024 });
    if (magic === 'INDX') regions.push({ offset: at, length: 4096 });
  }
});

after(() => rmSync(scratch, { recursive: true, force: true }));

async function exercise(source: BlockSource): Promise<void> {
  const fs = await NtfsReader.open(source);
  let n = 0;
  for await (const e of fs.walk('/')) {
    if (++n > 5000) break;
    if (e.type === 'file') {
      const end = Math.min(e.size, MiB);
      for await (const _ of await fs.createEntryReadStream(e, { start: 0, end })) void _;
      await fs.dataRanges(e);
      await fs.streams(e);
    } else if (e.type === 'symlink') await fs.readlinkBytes(e);
  }
  for (const p of ['/Secured/s1.txt', '/users/ann/A.TXT', '/Users/Ann/a.txt:ads', '/link/b.bin', '/junction/Ann', '/Compressed/c.txt']) {
    const e = await fs.stat(p).catch((err) => (isOpenemError(err) ? undefined : Promise.reject(err)));
    if (e?.type === 'file') await fs.read(p, 0, 70_000);
  }
}

const mutation = fc.record({
  region: fc.nat(),
  at: fc.nat(),
  value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0xff, 0x7f, 0x80)),
  width: fc.constantFrom(1, 2, 4, 8),
});

test('damaged NTFS metadata is read or refused with a catalogue error, fast', async () => {
  assert.ok(regions.length > 20, `the volume's records were found (${regions.length})`);
  await exercise(new MemorySource(image));
  await fc.assert(
    fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 6 }), async (mutations) => {
      const bytes = Buffer.from(image);
      for (const m of mutations) {
        const r = regions[m.region % regions.length];
        const at = r.offset + (m.at % r.length);
        for (let i = 0; i < m.width && at + i < bytes.length; i++) bytes[at + i] = i === 0 ? m.value : m.value === 0 ? 0 : 0xff;
      }
      const started = performance.now();
      try {
        await exercise(new MemorySource(bytes));
      } catch (e) {
        assert.ok(isOpenemError(e) && CODES.has(e.code), `unexpected ${(e as Error)?.stack ?? e}`);
      }
      assert.ok(performance.now() - started < 5000, 'read or refused within 5 s');
    }),
    fuzzOptions(),
  );
});
