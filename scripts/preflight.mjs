#!/usr/bin/env node
// Checks, before any test runs, that this machine has every Debian package the tests use, and stops at once with
// the apt-get line that installs what is missing (issue #9 item 10: a fresh machine lacked libfuse2 and the FUSE
// tests failed deep inside). The list is the README's and .ci/run's.
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';

const SBIN = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

function onPath(name) {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN]) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** fuse-native links against libfuse.so.2: loading it in a child is the one check that cannot disagree with the tests. */
function fuseNativeLoads() {
  const r = spawnSync(process.execPath, ['-e', "require('fuse-native')"], { encoding: 'utf8' });
  return r.status === 0;
}

/** A cloud kernel in /boot whose modules are installed, as src/platform/demo/kvm-guest-image.ts looks for one. */
function cloudKernelInstalled() {
  try {
    return readdirSync('/lib/modules').some((v) => v.endsWith('-cloud-amd64') && readable(`/boot/vmlinuz-${v}`));
  } catch {
    return false;
  }
}

function readable(path) {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Each check: what is looked for, the Debian package that brings it, and how to tell it is there. */
export const CHECKS = [
  // npm ci needed these already (node-gyp compiles fs-xattr, and zstd-napi or better-sqlite3 without a prebuilt
  // binary); checked so that this list stays the README's and .ci/run's.
  { what: 'python3 (node-gyp)', pkg: 'python3', ok: () => onPath('python3') },
  { what: 'make (node-gyp)', pkg: 'make', ok: () => onPath('make') },
  { what: 'g++ (node-gyp)', pkg: 'g++', ok: () => onPath('g++') },
  { what: 'mke2fs, e2fsck, debugfs, filefrag', pkg: 'e2fsprogs', ok: () => ['mke2fs', 'e2fsck', 'debugfs', 'filefrag'].every(onPath) },
  { what: 'fuse2fs', pkg: 'fuse2fs', ok: () => onPath('fuse2fs') },
  { what: 'libfuse.so.2 (loaded by fuse-native)', pkg: 'libfuse2', ok: fuseNativeLoads },
  { what: 'fusermount or fusermount3', pkg: 'fuse3', ok: () => onPath('fusermount') || onPath('fusermount3') },
  { what: 'setpriv, fallocate, partx, blkid', pkg: 'util-linux', ok: () => ['setpriv', 'fallocate', 'partx', 'blkid'].every(onPath) },
  { what: "fincore (bench/kvm shows an image is out of the page cache)", pkg: 'util-linux-extra', ok: () => onPath('fincore') },
  { what: '/usr/bin/chromium', pkg: 'chromium', ok: () => executable('/usr/bin/chromium') },
  { what: 'xmllint (the EM schema test)', pkg: 'libxml2-utils', ok: () => onPath('xmllint') },
  { what: 'mkntfs, ntfs-3g, ntfsls, ntfscat, ntfsinfo, ntfsfix', pkg: 'ntfs-3g', ok: () => ['mkntfs', 'ntfs-3g', 'ntfsls', 'ntfscat', 'ntfsinfo', 'ntfsfix'].every(onPath) },
  { what: 'losetup, umount', pkg: 'mount', ok: () => ['losetup', 'umount'].every(onPath) },
  { what: 'setfattr and getfattr (the NTFS tests set and read attributes with them)', pkg: 'attr', ok: () => ['setfattr', 'getfattr'].every(onPath) },
  { what: 'libvirtd (the kvm platform tests run a private one)', pkg: 'libvirt-daemon', ok: () => onPath('libvirtd') },
  { what: "libvirt's QEMU driver", pkg: 'libvirt-daemon-driver-qemu', ok: () => !!statSync('/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so', { throwIfNoEntry: false }) || onPath('virtqemud') },
  { what: 'virsh', pkg: 'libvirt-clients', ok: () => onPath('virsh') },
  { what: 'qemu-system-x86_64, qemu-storage-daemon', pkg: 'qemu-system-x86', ok: () => ['qemu-system-x86_64', 'qemu-storage-daemon'].every(onPath) },
  { what: 'qemu-img, qemu-nbd, qemu-io', pkg: 'qemu-utils', ok: () => ['qemu-img', 'qemu-nbd', 'qemu-io'].every(onPath) },
  { what: 'nbdinfo', pkg: 'libnbd-bin', ok: () => onPath('nbdinfo') },
  { what: "Debian's cloud kernel with its modules (the bootable KVM guests)", pkg: 'linux-image-cloud-amd64', ok: cloudKernelInstalled },
  { what: '/bin/busybox (static: the userland of the bootable KVM guests)', pkg: 'busybox-static', ok: () => executable('/bin/busybox') },
  { what: 'cpio (packs the initramfs of the bootable KVM guests)', pkg: 'cpio', ok: () => onPath('cpio') },
  { what: 'qemu-ga (the guest agent a test guest runs)', pkg: 'qemu-guest-agent', ok: () => executable('/usr/sbin/qemu-ga') },
  { what: 'hivexsh (the tests write Windows guests\' registry hives with it)', pkg: 'libhivex-bin', ok: () => onPath('hivexsh') },
  { what: 'haproxy (the three-node test balances over it)', pkg: 'haproxy', ok: () => onPath('haproxy') },
];

const missing = CHECKS.filter((c) => !c.ok());
const noFuseDevice = !statSync('/dev/fuse', { throwIfNoEntry: false })?.isCharacterDevice();
if (missing.length || noFuseDevice) {
  for (const c of missing) console.error(`missing: ${c.what} — Debian package '${c.pkg}'`);
  if (missing.length) console.error(`install with: apt-get install -y ${[...new Set(missing.map((c) => c.pkg))].join(' ')}`);
  if (noFuseDevice) console.error('missing: /dev/fuse (the FUSE kernel device); load the fuse module or run where FUSE is available');
  process.exit(1);
}
