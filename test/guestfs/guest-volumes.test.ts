import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GuestFilesystem } from '../../src/guestfs/guest-filesystem.js';
import { parseGuestPath } from '../../src/guestfs/guest-path.js';
import { GuestVolumeSet, type VolumeCandidate } from '../../src/guestfs/guest-volumes.js';
import type { WindowsVolumeRole } from '../../src/guestfs/windows-volume-role.js';

/** A volume as the opener makes it; `lettered` stands for a kind the guest gives drive letters (NTFS). */
function candidate(id: string, lettered: boolean, osKind: 'Linux' | 'Windows' = lettered ? 'Windows' : 'Linux', windowsRole?: WindowsVolumeRole): VolumeCandidate {
  const [diskName, part] = id.split('/');
  return { id, diskName, ...(part ? { partitionIndex: Number(part) } : {}), offset: 0, kind: 'ext4', osKind, fs: { id } as unknown as GuestFilesystem, lettered, ...(windowsRole ? { windowsRole } : {}) };
}

test('a guest path keeps its drive letter (upper case) and normalises the rest', () => {
  assert.deepEqual(parseGuestPath('/etc/hosts'), { path: '/etc/hosts' });
  assert.deepEqual(parseGuestPath('C:/Users/../Users/ana'), { drive: 'C', path: '/Users/ana' });
  assert.deepEqual(parseGuestPath('d:'), { drive: 'D', path: '/' });
  assert.deepEqual(parseGuestPath('C:/../..'), { drive: 'C', path: '/' }, 'never above the volume root');
  assert.deepEqual(parseGuestPath('/C:'), { path: '/C:' }, 'a Linux file named C: is a name, not a drive');
  assert.deepEqual(parseGuestPath('C:x'), { path: '/C:x' });
});

test('a Linux guest: / is its first filesystem, and any drive letter names that same root', () => {
  const set = new GuestVolumeSet([candidate('disk0/1', false), candidate('disk1', false)]);
  const [root, data] = set.volumes;
  assert.equal(set.primary, root);
  assert.equal(set.osKind, 'Linux');
  assert.deepEqual(set.volumes.map((v) => v.driveLetter), [undefined, undefined]);
  assert.deepEqual(set.locate('/etc/hosts'), { volume: root, path: '/etc/hosts' });
  assert.deepEqual(set.locate('C:/etc/hosts'), { volume: root, path: '/etc/hosts' });
  assert.deepEqual(set.locate('E:/etc'), { volume: root, path: '/etc' });
  assert.deepEqual(set.addressable, [root], 'the second filesystem has no address (its mount point is in the guest fstab)');
  assert.equal(set.guestPathOf(root, '/etc'), '/etc');
  assert.equal(set.guestPathOf(data, '/x'), undefined);
});

test('lettered volumes get C:, D:, … in disk order; / names C:; a letter the guest lacks names nothing', () => {
  const set = new GuestVolumeSet([candidate('disk0/1', false), candidate('disk0/2', true), candidate('disk1/1', true)]);
  const [boot, system, data] = set.volumes;
  assert.deepEqual(set.volumes.map((v) => v.driveLetter), [undefined, 'C', 'D']);
  assert.equal(set.primary, system);
  assert.equal(set.osKind, 'Windows', 'what is on the primary volume says what the guest is');
  assert.deepEqual(set.locate('C:/Users'), { volume: system, path: '/Users' });
  assert.deepEqual(set.locate('c:/Users'), { volume: system, path: '/Users' });
  assert.deepEqual(set.locate('/Users'), { volume: system, path: '/Users' });
  assert.deepEqual(set.locate('D:/Data'), { volume: data, path: '/Data' });
  assert.equal(set.locate('E:/x'), undefined);
  assert.deepEqual(set.addressable, [system, data]);
  assert.equal(set.guestPathOf(system, '/Users'), 'C:/Users');
  assert.equal(set.guestPathOf(boot, '/'), undefined);
});

test("Windows' system volume is C: wherever it lies; the other volumes follow in disk order; the hidden ones get no letter", () => {
  const set = new GuestVolumeSet([
    candidate('disk0/1', true, 'Windows', 'hidden'), // System Reserved
    candidate('disk0/2', true, 'Windows', 'data'),
    candidate('disk0/3', true, 'Windows', 'system'),
    candidate('disk0/4', true, 'Windows', 'hidden'), // Recovery
    candidate('disk1/1', true, 'Windows', 'data'),
  ]);
  const [reserved, data, system, recovery, second] = set.volumes;
  assert.deepEqual(set.volumes.map((v) => v.driveLetter), [undefined, 'D', 'C', undefined, 'E']);
  assert.equal(set.primary, system, 'the system volume is the one / and C: name');
  assert.deepEqual(set.locate('C:/Windows'), { volume: system, path: '/Windows' });
  assert.deepEqual(set.locate('D:/Data'), { volume: data, path: '/Data' });
  assert.deepEqual(set.addressable, [system, data, second], 'in drive-letter order; the hidden volumes have no address');
  assert.equal(set.guestPathOf(reserved, '/'), undefined);
  assert.equal(set.guestPathOf(recovery, '/'), undefined);
});

test('a VM without a filesystem openem reads has no primary volume and locates nothing', () => {
  const set = new GuestVolumeSet([]);
  assert.equal(set.primary, undefined);
  assert.equal(set.osKind, undefined);
  assert.equal(set.locate('/etc'), undefined);
});
