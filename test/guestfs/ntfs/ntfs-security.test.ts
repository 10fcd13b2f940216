import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OwnerNames, ownerOf } from '../../../src/guestfs/ntfs/ntfs-security.js';

/** A self-relative descriptor's 20-byte header (revision 1, SE_SELF_RELATIVE | SE_DACL_PRESENT), owner at `ownerOffset`, then `owner`. */
function descriptor(ownerOffset: number, owner: Uint8Array = new Uint8Array(0)): Buffer {
  const header = Buffer.alloc(20);
  header[0] = 1;
  header.writeUInt16LE(0x8004, 2);
  header.writeUInt32LE(ownerOffset, 4);
  return Buffer.concat([header, owner]);
}

test('OwnerNames: a descriptor without an owner leaves nothing cached that a later owner SID could match', () => {
  const none = descriptor(0);
  // The owner SID whose 8 bytes are the ownerless descriptor's first 8 (revision 1, no sub-authority): what a
  // cache keyed on the header would hold.
  const headerLike = descriptor(20, none.subarray(0, 8));
  const admins = descriptor(20, Buffer.from([1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0]));
  assert.equal(ownerOf(headerLike), 'S-1-4947802324992');
  const owners = new OwnerNames();
  // One listing buffer holding the descriptors one after another, as the reader hands them in.
  const b = Buffer.concat([admins, none, headerLike, none, admins, headerLike]);
  const at = [0, admins.length, admins.length + none.length];
  at.push(at[2] + headerLike.length, at[2] + headerLike.length + none.length);
  at.push(at[4] + admins.length);
  const names = [admins, none, headerLike, none, admins, headerLike].map((sd, i) => owners.ownerAt(b, at[i], at[i] + sd.length));
  assert.deepEqual(names, ['BUILTIN\\Administrators', undefined, 'S-1-4947802324992', undefined, 'BUILTIN\\Administrators', 'S-1-4947802324992']);
  // Straight after an ownerless one, on a fresh cache too.
  const fresh = new OwnerNames();
  assert.equal(fresh.ownerAt(none, 0, none.length), undefined);
  assert.equal(fresh.ownerAt(headerLike, 0, headerLike.length), 'S-1-4947802324992');
});

test('OwnerNames answers as ownerOf, CORRUPT included', () => {
  const owners = new OwnerNames();
  const short = descriptor(0).subarray(0, 12);
  assert.throws(() => owners.ownerAt(short, 0, short.length), /truncated/);
  const outside = descriptor(20, Buffer.from([1, 5, 0, 0, 0, 0, 0, 5]));
  assert.throws(() => owners.ownerAt(outside, 0, outside.length), /SID outside it/);
  const system = descriptor(20, Buffer.from([1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]));
  assert.equal(owners.ownerAt(system, 0, system.length), ownerOf(system));
  assert.equal(owners.ownerAt(system, 0, system.length), 'NT AUTHORITY\\SYSTEM');
});
