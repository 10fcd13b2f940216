/**
 * openem's NTFS reader against ntfs-3g's own tools (ntfsls, ntfscat, ntfsinfo) and against what was written through
 * the ntfs-3g driver, over volumes ntfs-3g made: resident and non-resident files, a file fragmented past one file
 * record (an attribute list), a 10,000-entry folder, compressed and sparse files, alternate data streams, hard
 * links, Interix symlinks, junctions and Windows symlinks, Unicode and long names, small and large clusters.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, linkSync, unlinkSync, mkdirSync, mkdtempSync, openSync, readlinkSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockSource } from '../../../src/disks/block-source.js';
import { ImageFileSource } from '../../../src/disks/image-file-source.js';
import { isOpenemError } from '../../../src/errors.js';
import type { GuestEntry } from '../../../src/guestfs/guest-filesystem.js';
import { NtfsReader } from '../../../src/guestfs/ntfs/ntfs-reader.js';
import { junctionData, makeNtfsImage, ntfscat, ntfsinfoDump, ntfsinfoField, ntfslsNames, securityDescriptorOf, setNtfsAttributes, setReparseData, symlinkData, withNtfsMounted } from '../fixtures/ntfs-images.js';

const MiB = 1024 * 1024;
const code = (c: string) => (e: unknown) => isOpenemError(e) && e.code === c;
const BIG_FOLDER = 10_000;
const LONG_NAME = 'L'.repeat(200) + 'é'.repeat(55);

function pattern(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Text that compresses well but not trivially, so LZNT1 back-references of every length and offset occur. */
function compressible(length: number): Buffer {
  const words = ['exchange', 'mailbox', 'database', 'Users', 'Documents', 'C:\\Windows\\System32', 'openem'];
  let s = '';
  for (let i = 0; s.length < length; i++) s += `${words[(i * 7) % words.length]} ${i % 97} `;
  return Buffer.from(s.slice(0, length));
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

/**
 * Every folder below `dir` lists each entry as `stat` shows it: a listing reads plain records from their attribute
 * headers alone (ntfs-record-summary.ts), stat builds the whole node, and the two must agree on everything.
 */
async function assertListingsAsStat(fs: NtfsReader, dir: string): Promise<number> {
  let n = 0;
  for (const e of await fs.list(dir)) {
    assert.deepEqual(e, await fs.stat(e.path), e.path);
    n++;
    if (e.type === 'dir') n += await assertListingsAsStat(fs, e.path);
  }
  return n;
}

/**
 * A block source that counts the reads and bytes asked of it, and the reads that cross a 1 MiB boundary of the source
 * (a repository block: a restore point's disk copies such a read into a buffer of its own, one inside a block it hands
 * out as it is).
 */
function countingSource(source: BlockSource): BlockSource & { reads: number; bytes: number; acrossBlocks: number } {
  const counted = {
    size: source.size,
    reads: 0,
    bytes: 0,
    acrossBlocks: 0,
    read: (offset: number, length: number) => {
      counted.reads++;
      counted.bytes += length;
      if (length > 0 && Math.floor(offset / MiB) !== Math.floor((offset + length - 1) / MiB)) counted.acrossBlocks++;
      return source.read(offset, length);
    },
    allocatedExtents: () => source.allocatedExtents(),
    close: async () => undefined,
  };
  return counted;
}

interface Volume {
  image: string;
  fs: NtfsReader;
  source: ImageFileSource;
  links: Record<string, string>;
}

async function openVolume(image: string): Promise<{ fs: NtfsReader; source: ImageFileSource }> {
  const source = await ImageFileSource.open(image);
  return { fs: await NtfsReader.open(source), source };
}

describe('NTFS reader against ntfs-3g, 4 KiB clusters', () => {
  let scratch: string;
  let v: Volume;
  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'openem-ntfs-'));
    const image = join(scratch, 'ntfs.img');
    makeNtfsImage(image, 256 * MiB, 4096);
    const links: Record<string, string> = {};
    await withNtfsMounted(image, (m) => {
      mkdirSync(join(m, 'Users/Ann/Documents'), { recursive: true });
      writeFileSync(join(m, 'Users/Ann/Documents/small.txt'), 'resident bytes\n');
      writeFileSync(join(m, 'Users/Ann/Documents/big.bin'), pattern(3 * MiB + 123, 7));
      writeFileSync(join(m, 'Users/Ann/Documents/empty'), '');
      writeFileSync(join(m, 'Users/Ann/café résumé.txt'), 'ça marche\n');
      writeFileSync(join(m, 'Users/Ann/日本語のファイル名.txt'), 'にほんご\n');
      writeFileSync(join(m, 'Users/Ann/📁 emoji.txt'), 'surrogates\n');
      writeFileSync(join(m, `Users/Ann/${LONG_NAME}`), 'long\n');
      // Sparse: data, a 3 MiB hole, data, and a hole to the end.
      const s = openSync(join(m, 'Users/sparse.bin'), 'w');
      writeSync(s, pattern(70_000, 11), 0, 70_000, 0);
      writeSync(s, pattern(130_005, 13), 0, 130_005, 3 * MiB);
      closeSync(s);
      // Compressed folder: files made in it are compressed (LZNT1) by ntfs-3g.
      mkdirSync(join(m, 'Compressed'));
      setNtfsAttributes(join(m, 'Compressed'), 0x810);
      writeFileSync(join(m, 'Compressed/text.log'), compressible(700_003));
      writeFileSync(join(m, 'Compressed/mixed.bin'), Buffer.concat([compressible(200_000), pattern(100_000, 3), compressible(50_001)]));
      const cs = openSync(join(m, 'Compressed/sparse-compressed.bin'), 'w');
      writeSync(cs, compressible(10_000), 0, 10_000, 0);
      writeSync(cs, compressible(10_000), 0, 10_000, 2 * MiB);
      closeSync(cs);
      // Alternate data streams, hard links, links of each kind.
      writeFileSync(join(m, 'Users/Ann/Documents/small.txt:Zone.Identifier'), '[ZoneTransfer]\r\nZoneId=3\r\n');
      writeFileSync(join(m, 'Users/Ann/Documents/small.txt:big stream'), pattern(100_000, 21));
      linkSync(join(m, 'Users/Ann/Documents/big.bin'), join(m, 'Users/hardlink.bin'));
      symlinkSync('Ann/Documents', join(m, 'Users/docs'));
      symlinkSync('/Users/Ann', join(m, 'Users/abs-ann'));
      mkdirSync(join(m, 'Documents and Settings'));
      setReparseData(join(m, 'Documents and Settings'), junctionData('C:\\Users'));
      writeFileSync(join(m, 'winlink'), '');
      setReparseData(join(m, 'winlink'), symlinkData('Users\\Ann\\Documents\\small.txt', true));
      writeFileSync(join(m, 'abs-winlink'), '');
      setReparseData(join(m, 'abs-winlink'), symlinkData('D:\\elsewhere', false));
      for (const l of ['Users/docs', 'Users/abs-ann']) links[l] = readlinkSync(join(m, l));
      mkdirSync(join(m, 'Big'));
      for (let i = 0; i < BIG_FOLDER; i++) writeFileSync(join(m, 'Big', `file-${String(i).padStart(5, '0')}.txt`), `${i}\n`);
    });
    v = { image, links, ...(await openVolume(image)) };
  });
  after(async () => {
    await v?.source.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('folders list what ntfsls lists, metafiles and DOS aliases left out', async () => {
    for (const dir of ['/', '/Users', '/Users/Ann', '/Users/Ann/Documents', '/Compressed']) {
      const ours = (await v.fs.list(dir)).map((e) => e.name).sort();
      assert.deepEqual(ours, ntfslsNames(v.image, dir).sort(), dir);
    }
    assert.ok(!(await v.fs.list('/')).some((e) => e.name.startsWith('$')), 'no metafile in the root');
  });

  test('a 10,000-entry folder (an $INDEX_ALLOCATION B+ tree) lists every entry once', async () => {
    const ours = await v.fs.list('/Big');
    assert.equal(ours.length, BIG_FOLDER);
    assert.deepEqual(ours.map((e) => e.name).sort(), ntfslsNames(v.image, '/Big').sort());
    assert.equal(new Set(ours.map((e) => e.id)).size, BIG_FOLDER);
    const e = ours.find((x) => x.name === 'file-04321.txt')!;
    assert.equal(e.size, 5);
    assert.equal((await v.fs.read('/Big/file-09999.txt', 0, 100)).toString(), '9999\n');
  });

  test('file bytes are what ntfscat reads: resident, non-resident, fragmented, sparse, compressed, Unicode names', async () => {
    for (const p of [
      '/Users/Ann/Documents/small.txt', '/Users/Ann/Documents/big.bin', '/Users/Ann/Documents/empty', '/Users/sparse.bin', '/Compressed/text.log', '/Compressed/mixed.bin', '/Compressed/sparse-compressed.bin',
      '/Users/Ann/café résumé.txt', '/Users/Ann/日本語のファイル名.txt', '/Users/Ann/📁 emoji.txt', `/Users/Ann/${LONG_NAME}`, '/Users/hardlink.bin',
    ]) {
      const oracle = ntfscat(v.image, p);
      const e = (await v.fs.stat(p))!;
      assert.ok(e, p);
      assert.equal(e.type, 'file', p);
      assert.equal(e.size, oracle.length, `size of ${p}`);
      assert.ok((await collect(await v.fs.createReadStream(p))).equals(oracle), `bytes of ${p}`);
      assert.ok((await collect(await v.fs.createEntryReadStream(e, { start: 0, end: e.size }))).equals(oracle), `entry bytes of ${p}`);
    }
    const mixed = ntfscat(v.image, '/Compressed/mixed.bin');
    for (const [o, l] of [[0, 1], [65_535, 3], [199_999, 70_000], [340_000, 20_000]]) {
      assert.ok((await v.fs.read('/Compressed/mixed.bin', o, l)).equals(mixed.subarray(o, o + l)), `compressed read(${o}, ${l})`);
    }
  });

  test('sparse and compressed files: data ranges cover the data, the rest is zeros', async () => {
    for (const p of ['/Users/sparse.bin', '/Compressed/sparse-compressed.bin']) {
      const e = (await v.fs.stat(p))!;
      const src = ntfscat(v.image, p);
      const ranges = await v.fs.dataRanges(e);
      let last = 0;
      for (const r of ranges) {
        assert.ok(src.subarray(last, r.start).equals(Buffer.alloc(r.start - last)), `${p}: nothing but zeros between ranges`);
        last = r.end;
      }
      assert.ok(src.subarray(last).equals(Buffer.alloc(src.length - last)), `${p}: zeros after the last range`);
      assert.ok(ranges.reduce((n, r) => n + r.end - r.start, 0) < MiB, `${p}: the hole is not data`);
    }
  });

  test('alternate data streams are read as file:stream, as ntfscat reads them, and listed', async () => {
    const small = (await v.fs.stat('/Users/Ann/Documents/small.txt'))!;
    assert.deepEqual((await v.fs.streams(small)).map((s) => [s.name, s.size]).sort(), [['Zone.Identifier', 26], ['big stream', 100_000]]);
    for (const name of ['Zone.Identifier', 'big stream']) {
      const p = `/Users/Ann/Documents/small.txt:${name}`;
      const e = (await v.fs.stat(p))!;
      assert.equal(e.type, 'file');
      const oracle = ntfscat(v.image, '/Users/Ann/Documents/small.txt', name);
      assert.equal(e.size, oracle.length);
      assert.ok((await collect(await v.fs.createEntryReadStream(e, { start: 0, end: e.size }))).equals(oracle), name);
    }
    assert.equal((await v.fs.read('/users/ann/documents/SMALL.TXT:zone.identifier', 0, 14)).toString(), '[ZoneTransfer]');
    assert.equal(await v.fs.stat('/Users/Ann/Documents/small.txt:nope'), undefined);
  });

  test('hard links are one file record under two names, as ntfsinfo counts them', async () => {
    const a = (await v.fs.stat('/Users/Ann/Documents/big.bin'))!;
    const b = (await v.fs.stat('/Users/hardlink.bin'))!;
    assert.equal(a.id, b.id);
    assert.equal(ntfsinfoField(v.image, '/Users/hardlink.bin', 'Number of Hard Links')?.split(' ')[0], '2');
  });

  test('names are looked up case-insensitively, as Windows does', async () => {
    assert.equal((await v.fs.read('/USERS/ann/DOCUMENTS/Small.Txt', 0, 100)).toString(), 'resident bytes\n');
    assert.equal((await v.fs.stat('/users/ANN/CAFÉ RÉSUMÉ.TXT'))?.type, 'file', 'through $UpCase, beyond ASCII');
    assert.equal((await v.fs.stat('/users'))?.path, '/users');
  });

  test('Interix symlinks, junctions and Windows symlinks are links, followed inside the volume only', async () => {
    assert.equal(await v.fs.readlink('/Users/docs'), v.links['Users/docs']);
    assert.equal(await v.fs.readlink('/Users/abs-ann'), v.links['Users/abs-ann']);
    assert.equal((await v.fs.stat('/Users/docs'))?.type, 'symlink');
    assert.equal((await v.fs.stat('/Users/docs'))?.size, Buffer.byteLength(v.links['Users/docs']));
    assert.equal((await v.fs.read('/Users/docs/small.txt', 0, 100)).toString(), 'resident bytes\n');
    assert.equal((await v.fs.read('/Users/abs-ann/Documents/small.txt', 0, 100)).toString(), 'resident bytes\n');
    assert.equal((await v.fs.stat('/Documents and Settings'))?.type, 'symlink', 'a junction is a link, not a folder');
    assert.equal(await v.fs.readlink('/Documents and Settings'), 'C:/Users');
    assert.equal((await v.fs.read('/Documents and Settings/Ann/Documents/small.txt', 0, 100)).toString(), 'resident bytes\n', 'C: is this volume');
    assert.equal(await v.fs.readlink('/winlink'), 'Users/Ann/Documents/small.txt');
    assert.equal(await v.fs.readlink('/abs-winlink'), 'D:/elsewhere');
    assert.equal(await v.fs.stat('/abs-winlink/x'), undefined, 'another drive is never reached');
    await assert.rejects(v.fs.list('/Documents and Settings'), code('BAD_REQUEST'));
    await assert.rejects(v.fs.read('/winlink', 0, 1), code('BAD_REQUEST'));
  });

  test('times and sizes are those ntfs-3g wrote', async () => {
    const e = (await v.fs.stat('/Users/Ann/Documents/big.bin'))!;
    assert.equal(e.size, 3 * MiB + 123);
    const now = Date.now();
    for (const t of [e.mtime, e.atime!, e.ctime!, e.birthtime!]) assert.ok(Math.abs(now - t.getTime()) < 3_600_000, `a time of today: ${t.toISOString()}`);
    assert.equal((await v.fs.stat('/Users'))?.type, 'dir');
  });

  test('the owner is the security descriptor\'s, as ntfsinfo shows it', async () => {
    const names: Record<string, string> = { 'S-1-5-18': 'NT AUTHORITY\\SYSTEM', 'S-1-5-32-544': 'BUILTIN\\Administrators' };
    for (const p of ['/', '/Users/Ann/Documents/big.bin', '/Big/file-00001.txt']) {
      const sid = ntfsinfoField(v.image, p, 'Owner SID')!;
      assert.ok(sid, `ntfsinfo shows an owner of ${p}`);
      assert.equal((await v.fs.stat(p))?.owner, names[sid] ?? sid, p);
    }
  });

  test('a listing shows every entry as stat does: files, folders, links, streams, compressed, sparse and hard-linked', async () => {
    assert.ok((await assertListingsAsStat(v.fs, '/')) > 10_000);
  });

  test('a fresh listing of the 10,000-entry folder reads its records in a few large reads, each record once', async () => {
    const source = await ImageFileSource.open(v.image);
    try {
      const counted = countingSource(source);
      const fs = await NtfsReader.open(counted);
      const big = (await fs.stat('/Big'))!;
      counted.reads = 0;
      counted.bytes = 0;
      counted.acrossBlocks = 0;
      const listed = await fs.listEntry(big);
      assert.equal(listed.length, BIG_FOLDER);
      const recordSize = fs.boot.mftRecordSize;
      // The folder's $INDEX_ALLOCATION (read 1 MiB at a time) and its $BITMAP, then the records in spans of up to
      // 1 MiB: 10,000 records of 1 KiB are 10 spans. Read 64 KiB at a time, as before, they were 160 reads.
      assert.ok(counted.reads <= 20, `${counted.reads} reads of the volume for a 10,000-entry listing`);
      assert.ok(counted.bytes <= 2 * BIG_FOLDER * recordSize, `${counted.bytes} bytes read for ${BIG_FOLDER} records of ${recordSize}`);
      // Each span of records lies inside one 1 MiB window of the volume, so none is copied out of two repository
      // blocks; only the index's 1 MiB reads (a few) may cross one.
      assert.ok(counted.acrossBlocks <= 3, `${counted.acrossBlocks} of ${counted.reads} reads cross a 1 MiB boundary`);
      // Listed again (a second page): nothing is read.
      counted.reads = 0;
      assert.deepEqual(await fs.listEntry(big), listed);
      assert.equal(counted.reads, 0, 'a folder listed again is not read again');
    } finally {
      await source.close();
    }
  });

  test('walk yields every entry once and never follows links', async () => {
    const seen: GuestEntry[] = [];
    for await (const e of v.fs.walk('/Users')) seen.push(e);
    assert.equal(new Set(seen.map((e) => e.path)).size, seen.length);
    assert.ok(seen.some((e) => e.path === '/Users/Ann/Documents/big.bin'));
    assert.ok(!seen.some((e) => e.path.startsWith('/Users/docs/')), 'a link is not entered');
  });
});

describe('NTFS reader against ntfs-3g, a file in thousands of fragments', () => {
  let scratch: string;
  let v: { fs: NtfsReader; source: ImageFileSource; image: string };
  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'openem-ntfs-'));
    const image = join(scratch, 'ntfs.img');
    makeNtfsImage(image, 24 * MiB, 4096);
    await withNtfsMounted(image, (m) => {
      // Fill the volume with one-cluster files, free every other one, then write a file into the holes.
      let n = 0;
      try {
        for (; n < 100_000; n++) writeFileSync(join(m, `f${n}`), pattern(4096, n));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
      for (let i = 0; i < n; i += 2) unlinkSync(join(m, `f${i}`));
      const fd = openSync(join(m, 'fragmented.bin'), 'w');
      for (let i = 0; i < 1800; i++) writeSync(fd, pattern(4096, 50_000 + i));
      closeSync(fd);
    });
    v = { image, ...(await openVolume(image)) };
  });
  after(async () => {
    await v?.source.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the fragmented file needs an attribute list and extension records, and reads as ntfscat reads it', async () => {
    assert.match(ntfsinfoDump(v.image, '/fragmented.bin'), /Dumping attribute \$ATTRIBUTE_LIST/, 'ntfs-3g needed an attribute list');
    const oracle = ntfscat(v.image, '/fragmented.bin');
    assert.equal(oracle.length, 1800 * 4096);
    assert.ok((await collect(await v.fs.createReadStream('/fragmented.bin'))).equals(oracle));
    for (const o of [0, 4095, 4096 * 700 + 17, oracle.length - 5]) {
      assert.ok((await v.fs.read('/fragmented.bin', o, 9000)).equals(oracle.subarray(o, o + 9000)), `read at ${o}`);
    }
    assert.deepEqual(await v.fs.dataRanges((await v.fs.stat('/fragmented.bin'))!), [{ start: 0, end: oracle.length }]);
    assert.deepEqual((await v.fs.list('/')).find((e) => e.name === 'fragmented.bin'), await v.fs.stat('/fragmented.bin'), 'listed as stat shows it');
  });
});

describe('NTFS reader against ntfs-3g, owners shared in $Secure', () => {
  let scratch: string;
  let v: { fs: NtfsReader; source: ImageFileSource; image: string };
  let sds: Record<string, Buffer>;
  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'openem-ntfs-'));
    const image = join(scratch, 'ntfs.img');
    makeNtfsImage(image, 32 * MiB, 4096);
    sds = {};
    // With `permissions`, ntfs-3g keeps descriptors in $Secure and gives files a security id instead.
    await withNtfsMounted(image, (m) => {
      mkdirSync(join(m, 'Users'));
      writeFileSync(join(m, 'Users/perm.txt'), 'x');
      for (const p of ['Users', 'Users/perm.txt']) sds[p] = securityDescriptorOf(join(m, p));
    }, ['permissions']);
    v = { image, ...(await openVolume(image)) };
  });
  after(async () => {
    await v?.source.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the owner comes from the descriptor $SII and $SDS name, the one ntfs-3g hands out', async () => {
    assert.match(ntfsinfoDump(v.image, '/Users/perm.txt'), /Security ID:\s+\d+/, 'the file names a shared descriptor');
    for (const [p, sd] of Object.entries(sds)) {
      // The owner SID of a self-relative descriptor: its offset at byte 4, then revision, count, authority, sub-authorities.
      const at = sd.readUInt32LE(4);
      const sid = [`S-${sd[at]}-${sd.readUIntBE(at + 2, 6)}`, ...Array.from({ length: sd[at + 1] }, (_, i) => sd.readUInt32LE(at + 8 + 4 * i))].join('-');
      const names: Record<string, string> = { 'S-1-5-18': 'NT AUTHORITY\\SYSTEM', 'S-1-5-32-544': 'BUILTIN\\Administrators' };
      assert.equal((await v.fs.stat(`/${p}`))?.owner, names[sid] ?? sid, p);
    }
    assert.equal((await v.fs.list('/Users')).find((e) => e.name === 'perm.txt')?.owner, (await v.fs.stat('/Users/perm.txt'))?.owner, 'a listing shows the same owner');
    assert.equal(await assertListingsAsStat(v.fs, '/'), 2);
  });
});

for (const clusterSize of [512, 65536]) {
  describe(`NTFS reader against ntfs-3g, ${clusterSize}-byte clusters`, () => {
    let scratch: string;
    let v: { fs: NtfsReader; source: ImageFileSource; image: string };
    before(async () => {
      scratch = mkdtempSync(join(tmpdir(), 'openem-ntfs-'));
      const image = join(scratch, 'ntfs.img');
      makeNtfsImage(image, 64 * MiB, clusterSize);
      await withNtfsMounted(image, (m) => {
        mkdirSync(join(m, 'dir'));
        writeFileSync(join(m, 'dir/small.txt'), 'hi\n');
        writeFileSync(join(m, 'dir/big.bin'), pattern(2 * MiB + 1, 5));
        const s = openSync(join(m, 'dir/sparse.bin'), 'w');
        writeSync(s, pattern(5000, 9), 0, 5000, 4 * MiB);
        closeSync(s);
        for (let i = 0; i < 500; i++) writeFileSync(join(m, 'dir', `n${i}`), String(i));
      });
      v = { image, ...(await openVolume(image)) };
    });
    after(async () => {
      await v?.source.close();
      rmSync(scratch, { recursive: true, force: true });
    });

    test('listing and bytes match ntfsls and ntfscat', async () => {
      assert.equal(v.fs.boot.clusterSize, clusterSize);
      assert.deepEqual((await v.fs.list('/dir')).map((e) => e.name).sort(), ntfslsNames(v.image, '/dir').sort());
      for (const p of ['/dir/small.txt', '/dir/big.bin', '/dir/sparse.bin', '/dir/n499']) {
        assert.ok((await collect(await v.fs.createReadStream(p))).equals(ntfscat(v.image, p)), p);
      }
    });
  });
}
