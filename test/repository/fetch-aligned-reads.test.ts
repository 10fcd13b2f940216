// A full restore's pack reads allocate nothing per range (issue #11 goal 4): from a local store the codec workers read
// the pack files themselves, straight into the aligned slots, so the main thread reads no pack byte and its I/O
// threads are left to the writes; from another store each fetch lane reads its ranges into one reused memory.
// A fresh 16 MiB buffer per range cost page faults, zeroing and main-thread GC: 2-3 of the ~6 CPU-s of 3 GiB.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { open, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { openRepository } from '../../src/repository/open-repository.js';
import type { BlobStore, ByteRange } from '../../src/repository/blob-store.js';
import type { BlockFetch, RestorePointManifest } from '../../src/repository/repository.js';
import { LocalBlobStore } from '../../src/repository/stores/local/local-blob-store.js';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { backUpImage, tempDir, writeImage, type BlockKind } from './repository-fixtures.js';

/** A local store that counts the pack bytes it hands out and the memories it reads ranges into. */
class CountingStore extends LocalBlobStore implements BlobStore {
  packGets = 0;
  readsInto = 0;
  readonly intoMemories = new Set<ArrayBufferLike>();
  override async get(key: string, range?: ByteRange): Promise<Buffer> {
    if (key.startsWith('packs/')) this.packGets++;
    return super.get(key, range);
  }
  override async readInto(key: string, range: ByteRange, into: Uint8Array): Promise<number> {
    this.readsInto++;
    this.intoMemories.add(into.buffer);
    return super.readInto(key, range, into);
  }
}

/** The same store seen as one whose objects are not local files (as S3's are). */
function withoutLocalFiles(store: CountingStore): BlobStore {
  return {
    location: store.location,
    put: (k, d) => store.put(k, d),
    get: (k, r) => store.get(k, r),
    readInto: (k, r, into) => store.readInto(k, r, into),
    stat: (k) => store.stat(k),
    exists: (k) => store.exists(k),
    list: (p) => store.list(p),
    delete: (k) => store.delete(k),
  };
}

let dir: Awaited<ReturnType<typeof tempDir>>;
let image: string;
let repoPath: string;
let manifest: RestorePointManifest;
let wanted: BlockFetch[];
const BLOCKS = 200;

before(async () => {
  dir = await tempDir();
  repoPath = join(dir.path, 'repo');
  image = join(dir.path, 'disk.img');
  const kinds: BlockKind[] = Array.from({ length: BLOCKS }, (_, i) => (['random', 'text', 'random', 'zero'] as const)[i % 4]);
  await writeImage(image, kinds, BLOCKS * BLOCK_SIZE - 3000);
  const repo = await openRepository(repoPath, { create: true, packSize: 16 * BLOCK_SIZE });
  try {
    manifest = (await backUpImage(repo, 'vm-reads', image)).manifest;
  } finally {
    await repo.close();
  }
  wanted = manifest.disks[0].blocks.flatMap((hash, index) => (hash ? [{ index, hash }] : []));
});
after(async () => {
  await dir.cleanup();
});

/** Fetches every block of disk0 through `store` with alignedBlocks into one buffer (zeros where the manifest has holes). */
async function restoreAligned(store: BlobStore): Promise<Buffer> {
  const repo = await openRepository(repoPath, { store });
  try {
    const out = Buffer.alloc(manifest.disks[0].size);
    await repo.fetchBlocks(wanted, async (index, data) => void data.copy(out, index * BLOCK_SIZE), { alignedBlocks: true, concurrency: 4 });
    return out;
  } finally {
    await repo.close();
  }
}

test('from a local store the workers read the packs: no pack byte goes through the main thread, the image is intact', async () => {
  const store = new CountingStore(repoPath);
  const out = await restoreAligned(store);
  assert.ok(out.equals(await readFile(image)), 'byte for byte');
  assert.equal(store.packGets, 0, 'pack ranges fetched through get');
  assert.equal(store.readsInto, 0, 'pack ranges read into main-thread memory');
});

test('from a store without local files every range is read into one of the lanes\' reused memories', async () => {
  const store = new CountingStore(repoPath);
  const out = await restoreAligned(withoutLocalFiles(store));
  assert.ok(out.equals(await readFile(image)), 'byte for byte');
  assert.equal(store.packGets, 0, 'pack ranges fetched through get (a fresh buffer each)');
  assert.ok(store.readsInto >= 10, `${store.readsInto} ranges read`);
  assert.ok(store.intoMemories.size <= 4, `ranges read into ${store.intoMemories.size} memories, at most one per lane`);
});

test('a pack cut short or gone fails the worker\'s read with CORRUPT naming the pack', async () => {
  const packs = join(repoPath, 'packs');
  const files: string[] = [];
  for (const sub of await readdir(packs)) for (const name of await readdir(join(packs, sub))) files.push(join(packs, sub, name));
  files.sort();
  const first = files[0];
  const saved = await readFile(first);
  try {
    await truncate(first, Math.floor(saved.length / 2));
    await assert.rejects(restoreAligned(new CountingStore(repoPath)), (e: Error & { code?: string }) => e.code === 'CORRUPT' && /in pack [0-9a-f]+ .*is corrupt: pack is shorter/.test(e.message));
    await rm(first);
    await assert.rejects(restoreAligned(new CountingStore(repoPath)), (e: Error & { code?: string }) => e.code === 'CORRUPT' && /pack [0-9a-f]+ is missing from the repository/.test(e.message));
  } finally {
    const fh = await open(first, 'w');
    await fh.write(saved);
    await fh.close();
  }
});
