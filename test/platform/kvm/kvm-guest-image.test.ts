// Issue #13 item 4: what a bootable guest is made of, checked without booting it (the e2e test boots one).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { buildBootableGuest, moduleLoadOrder } from '../../../src/platform/demo/kvm-guest-image.js';
import { newDomainXml, parseDomainXml } from '../../../src/platform/kvm/domain-xml.js';
import { cleanupOf, tempDir } from '../../helpers/cleanup.js';

const MIB = 2 ** 20;

test('a bootable guest is a cloud kernel, an initramfs loading the virtio modules after their dependencies, and an ext4 root without a journal holding busybox init and the given files', async (t) => {
  const dir = tempDir(cleanupOf(t), 'openem-guest-image-');
  const guest = await buildBootableGuest({ dir, name: 'img01', diskSize: 32 * MIB, files: { 'data/hello.txt': 'hello\n' } });
  assert.match(guest.kernelVersion, /-cloud-amd64$/);
  assert.match(guest.cmdline, /console=ttyS0/);

  const listed = execFileSync('cpio', ['-t', '--quiet', '-F', guest.initrd], { encoding: 'utf8' }).split('\n');
  for (const f of ['init', 'bin/busybox', 'lib/modules/virtio_blk.ko', 'lib/modules/virtio_pci.ko', 'lib/modules/button.ko']) assert.ok(listed.includes(f), `${f} is in the initramfs`);
  const order = (await moduleLoadOrder(guest.kernelVersion, ['virtio_blk', 'virtio_pci'])).map((p) => p.split('/').pop());
  assert.ok(order.indexOf('virtio.ko') < order.indexOf('virtio_blk.ko') && order.indexOf('virtio_ring.ko') < order.indexOf('virtio_blk.ko'), order.join(' '));
  assert.ok(order.indexOf('virtio_pci_modern_dev.ko') < order.indexOf('virtio_pci.ko'), order.join(' '));

  const features = execFileSync('debugfs', ['-R', 'stats', guest.disk], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  assert.match(features, /Filesystem volume name:\s+img01/);
  assert.doesNotMatch(features, /has_journal/, 'no journal: a live backup of a synced guest reads what it wrote');
  assert.equal(execFileSync('debugfs', ['-R', 'cat /data/hello.txt', guest.disk], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), 'hello\n');
  assert.match(execFileSync('debugfs', ['-R', 'stat /sbin/init', guest.disk], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), /Fast link dest: "\/bin\/busybox"/);
});

test("a domain's direct kernel boot and serial console file are written and read back, so a restore point records them", () => {
  const xml = newDomainXml({
    uuid: '00000000-0000-4000-8000-000000000001', name: 'b1', vcpus: 1, memoryMiB: 192, type: 'qemu',
    disks: [{ name: 'disk0', file: '/pool/b1.qcow2', target: 'vda' }], metadata: {},
    boot: { kernel: '/k/vmlinuz', initrd: '/k/initrd', cmdline: 'console=ttyS0 root=/dev/vda' }, serialLog: '/c/b1.log',
  });
  assert.match(xml, /<features><acpi\/><\/features>/, 'ACPI, so a graceful shutdown reaches the guest');
  assert.match(xml, /<serial type="file"><source path="\/c\/b1.log" append="on"\/>/);
  assert.deepEqual(parseDomainXml(xml).boot, { kernel: '/k/vmlinuz', initrd: '/k/initrd', cmdline: 'console=ttyS0 root=/dev/vda' });
  assert.equal(parseDomainXml(xml.replace(/<kernel>.*<\/cmdline>/, '')).boot, undefined, 'no kernel, no boot');
});
