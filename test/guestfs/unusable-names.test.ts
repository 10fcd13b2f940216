// A folder entry whose name no path can name (empty, `.`, `..`, with `/` or NUL) is left out of listings and of
// the catalog, on ext4 and NTFS alike: joined to its folder's path it would alias another entry, and a hostile guest
// could make the catalog insert hit its primary key and fail the VM's own backups. Neither mke2fs nor ntfs-3g writes
// such names, so the tests patch an ordinary name's bytes in the image (in Node, never through a shell).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageFileSource } from '../../src/disks/image-file-source.js';
import { Ext4Reader } from '../../src/guestfs/ext4/ext4-reader.js';
import { NtfsReader } from '../../src/guestfs/ntfs/ntfs-reader.js';
import type { GuestFilesystem } from '../../src/guestfs/guest-filesystem.js';
import { indexGuestFiles } from '../../src/services/backup/index-guest-files.js';
import type { AppContext } from '../../src/services/app-services.js';
import type { RestorePointManifest } from '../../src/repository/repository.js';
import { openStore } from '../../src/state/open-store.js';
import { makeImage, tempDir } from './fixtures/ext4-images.js';
import { makeNtfsImage, withNtfsMounted } from './fixtures/ntfs-images.js';

const MiB = 1024 * 1024;

/**
 * Rewrites every stored copy of a name in the image: `name` as `encoding` right after its length (one byte at
 * `lengthBefore` bytes before it), to `to` with its own length. Returns how many copies it rewrote.
 */
function patchName(image: string, name: string, to: string, encoding: 'utf8' | 'utf16le', lengthBefore: number): number {
  const bytes = readFileSync(image);
  const from = Buffer.from(name, encoding);
  const unit = encoding === 'utf16le' ? 2 : 1;
  let count = 0;
  for (let at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + 1)) {
    if (at < lengthBefore || bytes[at - lengthBefore] !== from.length / unit) continue;
    const replacement = Buffer.from(to, encoding);
    bytes[at - lengthBefore] = replacement.length / unit;
    replacement.copy(bytes, at);
    count++;
  }
  writeFileSync(image, bytes);
  return count;
}

async function indexDisk(t: { after(fn: () => Promise<void> | void): void }, image: string) {
  const store = await openStore({ dataDir: tempDir(t, 'openem-index-') });
  t.after(() => store.close());
  const ctx = { store, repository: { openDisk: () => ImageFileSource.open(image) } } as unknown as AppContext;
  const manifest = { id: 'a1b2c3d4-0000-4000-8000-0000000000aa', disks: [{ name: 'disk0' }] } as unknown as RestorePointManifest;
  const result = await indexGuestFiles(ctx, manifest);
  const rows = await store.db.selectFrom('catalog_entries').select(['path', 'name']).where('vm_restore_point_id', '=', manifest.id).orderBy('path').execute();
  return { result, rows };
}

async function listing(fs: GuestFilesystem, dir: string): Promise<string[]> {
  return (await fs.list(dir)).map((e) => e.path).sort();
}

test('ext4: an entry named with `/` or NUL is left out of the listing and the catalog, not aliased', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'root');
  mkdirSync(join(root, 'dir'), { recursive: true });
  writeFileSync(join(root, 'dir/inner'), 'the real one\n');
  writeFileSync(join(root, 'dir_inner'), 'the alias\n');
  writeFileSync(join(root, 'nulXname'), 'nul\n');
  writeFileSync(join(root, 'ordinary'), 'ordinary\n');
  const image = join(dir, 'disk.img');
  makeImage(image, root, { size: '16M' });
  // A dirent: inode (4), rec_len (2), name_len (1), file type (1), name.
  assert.equal(patchName(image, 'dir_inner', 'dir/inner', 'utf8', 2), 1);
  assert.equal(patchName(image, 'nulXname', 'nul\0name', 'utf8', 2), 1);

  const source = await ImageFileSource.open(image);
  t.after(() => source.close());
  const fs = await Ext4Reader.open(source);
  assert.deepEqual((await listing(fs, '/')).filter((p) => p !== '/lost+found'), ['/dir', '/ordinary']);
  assert.deepEqual(await listing(fs, '/dir'), ['/dir/inner']);
  assert.equal(fs.unusableNames, 2);

  const { result, rows } = await indexDisk(t, image);
  assert.equal(result.state, 'Indexed', result.message);
  assert.deepEqual(rows.map((r) => r.path).filter((p) => !p.startsWith('/lost+found')), ['/dir', '/dir/inner', '/ordinary']);
});

test('NTFS: an index entry named empty, `.`, `..`, or with `/` or NUL is left out of the listing and the catalog', async (t) => {
  const dir = tempDir(t, 'openem-ntfs-');
  const image = join(dir, 'ntfs.img');
  makeNtfsImage(image, 16 * MiB);
  await withNtfsMounted(image, (m) => {
    mkdirSync(join(m, 'Dir'));
    writeFileSync(join(m, 'Dir/inner.txt'), 'the real one\n');
    writeFileSync(join(m, 'Dir_inner.txt'), 'the alias\n');
    for (const name of ['QQemptyQQ', 'QQdotQQ', 'QQdotdotQQ', 'QQnulQQ', 'ordinary.txt']) writeFileSync(join(m, name), name);
  });
  // A $FILE_NAME (in the folder's index and in the file's record): name length (1), name space (1), UTF-16LE name.
  const renames: [string, string][] = [['Dir_inner.txt', 'Dir/inner.txt'], ['QQemptyQQ', ''], ['QQdotQQ', '.'], ['QQdotdotQQ', '..'], ['QQnulQQ', 'QQ\0ulQQ']];
  for (const [from, to] of renames) assert.ok(patchName(image, from, to, 'utf16le', 2) >= 1, from);

  const source = await ImageFileSource.open(image);
  t.after(() => source.close());
  const fs = await NtfsReader.open(source);
  assert.deepEqual(await listing(fs, '/'), ['/Dir', '/ordinary.txt']);
  assert.deepEqual(await listing(fs, '/Dir'), ['/Dir/inner.txt']);
  assert.equal(fs.unusableNames, renames.length);

  const { result, rows } = await indexDisk(t, image);
  assert.equal(result.state, 'Indexed', result.message);
  assert.deepEqual(rows.map((r) => r.path), ['/Dir', '/Dir/inner.txt', '/ordinary.txt']);
});
