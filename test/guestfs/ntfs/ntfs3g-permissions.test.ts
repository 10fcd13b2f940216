/**
 * The PermissionsOnly writer's rules on a generated NTFS volume, checked with ntfs-3g's own view of it
 * (fixtures/ntfs-oracle.ts): a descriptor ntfs-3g refuses part-way through a folder puts back the descriptors already
 * set, so the volume is as it was; a missing parent folder is NOT_FOUND before anything is set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isOpenemError } from '../../../src/errors.js';
import type { GuestItem } from '../../../src/guestfs/guest-writer.js';
import { restoreNtfsPermissions } from '../../../src/guestfs/ntfs/ntfs3g-permissions.js';
import { buildNtfsInImage } from '../../../src/platform/local/ntfs-image-builder.js';
import { cleanupOf, tempDir } from '../../helpers/cleanup.js';
import { writeMbr } from '../fixtures/mbr.js';
import { loopDevicesOf, ntfsfixView, ntfsView, ntfsXattr, withNtfs } from '../fixtures/ntfs-oracle.js';

const MiB = 1024 * 1024;
const OFFSET = MiB;
const SIZE = 40 * MiB;

async function volume(t: { after(fn: () => unknown): unknown }) {
  const dir = tempDir(cleanupOf(t), 'openem-ntfs3g-perm-');
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'Share'), { recursive: true });
  writeFileSync(join(tree, 'Share/a.txt'), 'a\r\n');
  writeFileSync(join(tree, 'Share/b.txt'), 'b\r\n');
  const image = join(dir, 'disk.img');
  closeSync(openSync(image, 'w'));
  truncateSync(image, OFFSET + SIZE + MiB);
  await writeMbr(image, [{ start: OFFSET, size: SIZE, type: 0x07 }]);
  await buildNtfsInImage(image, OFFSET, SIZE, tree, 'test');
  return { image, target: { imagePath: image, offset: OFFSET, size: SIZE, workRoot: join(dir, 'flr-work') } };
}

function withOwner(sd: Buffer, rid: number): Buffer {
  const out = Buffer.from(sd);
  out.writeUInt32LE(rid, out.readUInt32LE(4) + 12);
  return out;
}

const attrs = (securityDescriptor: Buffer) => ({ mtime: new Date(), windows: { fileAttributes: 0, times: { creation: 0n, write: 0n, access: 0n }, securityDescriptor, streams: [] } });
const file = (name: string, sd: Buffer): GuestItem => ({ type: 'file', name: Buffer.from(name), attrs: attrs(sd), size: 0, dataRanges: [], read: async () => Readable.from([]) });

test('a descriptor ntfs-3g refuses part-way through a folder puts back the ones already set: the volume is as it was, and clean', async (t) => {
  const { image, target } = await volume(t);
  const live = await withNtfs(image, { write: false }, (root) => ntfsXattr(join(root, 'Share/a.txt'), 'system.ntfs_acl'));
  const before = await ntfsView(image, 'Share', { security: true });
  const changed = withOwner(live, 545);
  const item: GuestItem = { type: 'dir', name: Buffer.from('SHARE'), attrs: attrs(changed), children: [file('a.txt', changed), file('B.TXT', Buffer.from('not a security descriptor'))] };
  await assert.rejects(restoreNtfsPermissions(target, { parent: [], item }), (e: unknown) => isOpenemError(e) && /security descriptor of \/Share\/b\.txt/.test(e.message));
  assert.deepEqual(await ntfsView(image, 'Share', { security: true }), before, 'the folder and a.txt have their descriptors back');
  assert.equal(loopDevicesOf(image), '', 'no loop device left');
  const check = await ntfsfixView(image);
  assert.ok(check.clean, check.output);

  const done = await restoreNtfsPermissions(target, { parent: [], item: { ...item, children: [file('a.txt', changed)] } });
  assert.deepEqual([done.changed, done.unchanged, done.skipped], [2, 0, 0]);
  assert.deepEqual(done.target.map((b) => b.toString()), ['Share'], 'the live spelling');
  await withNtfs(image, { write: false }, (root) => assert.ok(ntfsXattr(join(root, 'Share/a.txt'), 'system.ntfs_acl').equals(changed)));
});

test('a parent folder the live volume lacks is NOT_FOUND before anything is set', async (t) => {
  const { image, target } = await volume(t);
  const before = await ntfsView(image, '', { security: true });
  const sd = await withNtfs(image, { write: false }, (root) => ntfsXattr(join(root, 'Share/a.txt'), 'system.ntfs_acl'));
  await assert.rejects(restoreNtfsPermissions(target, { parent: [Buffer.from('Gone')], item: file('a.txt', withOwner(sd, 545)) }), (e: unknown) => isOpenemError(e) && e.code === 'NOT_FOUND');
  assert.deepEqual(await ntfsView(image, '', { security: true }), before);
});
