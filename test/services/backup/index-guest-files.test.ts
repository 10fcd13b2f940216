import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { ImageFileSource } from '../../../src/disks/image-file-source.js';
import { indexGuestFiles } from '../../../src/services/backup/index-guest-files.js';
import type { AppContext } from '../../../src/services/app-services.js';
import type { RestorePointManifest } from '../../../src/repository/repository.js';
import { openStore, type Store } from '../../../src/state/open-store.js';
import { makeImage, sh, tempDir } from '../../guestfs/fixtures/ext4-images.js';
import { writeMbr } from '../../guestfs/fixtures/mbr.js';

const MiB = 1024 * 1024;

/** What indexGuestFiles uses of the application: the repository's disks (here image files) and the state store. */
async function indexing(t: { after(fn: () => Promise<void> | void): void }, disks: Record<string, string>) {
  const dir = tempDir(t, 'openem-index-');
  const store: Store = await openStore({ dataDir: dir });
  t.after(() => store.close());
  const ctx = { store, repository: { openDisk: (_m: unknown, name: string) => ImageFileSource.open(disks[name]) } } as unknown as AppContext;
  const manifest = { id: 'a1b2c3d4-0000-4000-8000-000000000001', disks: Object.keys(disks).map((name) => ({ name })) } as unknown as RestorePointManifest;
  const rows = () => store.db.selectFrom('catalog_entries').selectAll().where('vm_restore_point_id', '=', manifest.id).orderBy('path').execute();
  return { ctx, manifest, store, rows };
}

function ext4Disk(t: { after(fn: () => void): void }, script: string): string {
  const dir = tempDir(t);
  sh(`mkdir root && ${script}`, dir);
  const image = join(dir, 'disk.img');
  makeImage(image, join(dir, 'root'), { size: '16M' });
  return image;
}

/** An MBR disk with two Linux partitions, each holding an ext4 built from its own folder. */
async function twoPartitionDisk(t: { after(fn: () => void): void }): Promise<string> {
  const dir = tempDir(t);
  sh('mkdir one two && mkdir one/etc && echo first > one/etc/hostname && echo second > two/only-on-two', dir);
  const image = join(dir, 'disk.img');
  makeImage(image, join(dir, 'one'), { size: '16M', offset: MiB });
  makeImage(image, join(dir, 'two'), { size: '16M', offset: 17 * MiB });
  await writeMbr(image, [{ start: MiB, size: 16 * MiB }, { start: 17 * MiB, size: 16 * MiB }]);
  return image;
}

test('a disk openem cannot read is NotIndexed, and says why', async (t) => {
  const blank = join(tempDir(t), 'blank.img');
  await writeFile(blank, Buffer.alloc(4 * MiB));
  const { ctx, manifest, rows } = await indexing(t, { disk0: blank });
  const r = await indexGuestFiles(ctx, manifest);
  assert.equal(r.state, 'NotIndexed');
  assert.match(r.message, /no ext4 or ntfs filesystem/);
  assert.equal((await rows()).length, 0);
});

test('a store that fails while indexing is an error, not "NotIndexed"', async (t) => {
  const image = ext4Disk(t, 'echo hi > root/hello');
  const { ctx, manifest, store } = await indexing(t, { disk0: image });
  await sql`DROP TABLE catalog_entries`.execute(store.db);
  // The store's own error (SQLite's code), not an index state.
  await assert.rejects(indexGuestFiles(ctx, manifest), (e: unknown) => (e as { code?: string }).code === 'SQLITE_ERROR');
});

test('the guest files of a readable disk are indexed with path, type and size', async (t) => {
  const image = ext4Disk(t, 'mkdir root/etc && echo web01 > root/etc/hostname');
  const { ctx, manifest, rows } = await indexing(t, { disk0: image });
  const r = await indexGuestFiles(ctx, manifest);
  assert.equal(r.state, 'Indexed');
  const got = (await rows()).map((e) => [e.path, e.parent_path, e.type, Number(e.size)]);
  assert.deepEqual(got.filter(([p]) => p !== '/lost+found'), [['/etc', '/', 'dir', 1024], ['/etc/hostname', '/etc', 'file', 6]]);
});

test('every disk is looked at: a filesystem on the second disk is indexed when the first holds none', async (t) => {
  const blank = join(tempDir(t), 'blank.img');
  await writeFile(blank, Buffer.alloc(4 * MiB));
  const image = ext4Disk(t, 'mkdir root/etc && echo web01 > root/etc/hostname');
  const { ctx, manifest, rows, store } = await indexing(t, { disk0: blank, disk1: image });
  const r = await indexGuestFiles(ctx, manifest);
  assert.equal(r.state, 'Indexed', r.message);
  assert.ok((await rows()).some((e) => e.path === '/etc/hostname' && e.volume === 'disk1'));
  const volumes = await store.db.selectFrom('catalog_volumes').selectAll().where('vm_restore_point_id', '=', manifest.id).execute();
  assert.deepEqual(volumes.map((v) => [v.volume, v.disk_name, v.partition_index, v.fs_kind, v.drive_letter]), [['disk1', 'disk1', null, 'ext4', null]]);
});

test('each entry is on its volume: of two Linux filesystems, the one / names is indexed, by volume id', async (t) => {
  const image = await twoPartitionDisk(t);
  const { ctx, manifest, rows } = await indexing(t, { disk0: image });
  const r = await indexGuestFiles(ctx, manifest);
  assert.equal(r.state, 'Indexed', r.message);
  const got = (await rows()).filter((e) => e.path !== '/lost+found').map((e) => [e.volume, e.path]);
  // The second filesystem has no guest path yet (where it is mounted lives in the guest's fstab): not indexed.
  assert.deepEqual(got, [['disk0/1', '/etc'], ['disk0/1', '/etc/hostname']]);
});
