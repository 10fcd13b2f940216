// Issue #13 step 3: QuickRollback of a KVM VM from changed-block tracking. The blocks written since the newest
// point's checkpoint plus those that differ between the restore point and it are the only ones written, and the
// disk is not read for a comparison (the disk's writable export starting while the blocks are verified); with the chain broken, the restore compares hashes and says so.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createBaseContext } from '../../../src/app-context.js';
import { attachServices } from '../../../src/attach-services.js';
import { loadConfig } from '../../../src/config.js';
import { BLOCK_SIZE } from '../../../src/disks/block-source.js';
import { createLogger } from '../../../src/logger.js';
import type { AppContext } from '../../../src/services/app-services.js';
import { backupVm } from '../../../src/services/backup/backup-vm.js';
import { findVmRestorePoint } from '../../../src/services/inventory/restore-point-records.js';
import { startVmRestore } from '../../../src/services/restore-vm/start-vm-restore.js';
import { removeEverything, useSharedLibvirt } from '../../platform/kvm/private-libvirt.js';
import { ADMIN_PASSWORD } from '../../helpers/server-process.js';
import { adminPrincipal, diskCounters, sessionOfTask, waitForStopped } from './restore-fixtures.js';

const libvirt = useSharedLibvirt();
const MIB = 1024 * 1024;
const DISK = 64 * MIB;

async function quickRollback(ctx: AppContext, pointId: string) {
  const record = (await findVmRestorePoint(ctx, pointId))!;
  const task = await startVmRestore(ctx, await adminPrincipal(ctx), record, {
    vmRestorePointId: pointId, powerOnAfterRestore: false, quickRollback: true, target: { kind: 'original' },
  });
  const session = await waitForStopped(ctx, await sessionOfTask(ctx, task.taskId));
  assert.equal(session.result, 'Success', session.failureMessage);
  return session;
}

function bitmaps(image: string): string[] {
  const info = JSON.parse(execFileSync('qemu-img', ['info', '-U', '-f', 'qcow2', '--output=json', image], { encoding: 'utf8' })) as {
    'format-specific'?: { data?: { bitmaps?: { name: string }[] } };
  };
  return (info['format-specific']?.data?.bitmaps ?? []).map((b) => b.name);
}

test('QuickRollback of a KVM VM from CBT writes only the blocks written since the newest checkpoint or changed between the points, reading nothing of the disk; a broken chain compares hashes and says so', async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const dataDir = await mkdtemp(join(tmpdir(), 'openem-kvm-cbt-rollback-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  await writeFile(join(dataDir, 'openem.json'), JSON.stringify({ platforms: [{ id: 'kvm', kind: 'kvm', uri: lv.uri, shutdownTimeoutSeconds: 1 }] }));
  const config = loadConfig({ env: { OPENEM_ADMIN_PASSWORD: ADMIN_PASSWORD }, flags: { dataDir } });
  const base = await createBaseContext(config, createLogger('silent'), { announce: () => {} });
  const ctx = await attachServices(base, { demo: false });
  t.after(async () => {
    await ctx.shutdown();
    await base.store.close();
  });
  const kvm = ctx.platform.get('kvm')!;
  const staged = await kvm.stageNewVm({
    name: 'cbtrb01', cpus: 1, memoryMiB: 64, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere',
    hierarchyRootId: '', datastoreId: '', disks: [{ name: 'disk0', size: DISK }],
  });
  const w = await staged.openDiskForWrite('disk0');
  for (let b = 0; b < 16; b++) await w.write(b * BLOCK_SIZE, Buffer.alloc(BLOCK_SIZE, b + 1));
  await w.close();
  const vm = await staged.commit();
  const image = lv.virsh('domblklist', vm.id).split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[0] === 'vda')![1];
  const guestWrite = (pattern: number, at: string) =>
    lv.virsh('qemu-monitor-command', vm.id, '--hmp', `qemu-io -d /machine/peripheral/ua-disk0/virtio-backend "write -P ${pattern} ${at} 64k"`);
  const expected = Buffer.alloc(DISK);
  for (let b = 0; b < 16; b++) expected.fill(b + 1, b * BLOCK_SIZE, (b + 1) * BLOCK_SIZE);

  await kvm.setPowerState(vm.id, 'PoweredOn');
  const first = await backupVm(ctx, 'cbtrb01');
  guestWrite(0xee, '3M');
  guestWrite(0xdd, '20M');
  const second = await backupVm(ctx, 'cbtrb01');
  assert.equal(second.manifest.pointType, 'Increment');
  guestWrite(0xcc, '40M');

  // Back to the first point: block 40 was written since the second point's checkpoint, blocks 3 and 20 differ
  // between the points. Block 3 is fetched; 20 and 40 are holes at the first point and are zeroed.
  // What the restore asks of the platform, in the order it asks (the calls as they reach the context's platform
  // registry): the disk's writer is asked for while the blocks are verified, before the VM is marked.
  const calls: string[] = [];
  const platforms = ctx.platform;
  const openDiskForWrite = platforms.openDiskForWrite.bind(platforms);
  const markRestoreIncomplete = platforms.markRestoreIncomplete.bind(platforms);
  platforms.openDiskForWrite = (vmId, diskName) => (calls.push(`open ${diskName} for write`), openDiskForWrite(vmId, diskName));
  platforms.markRestoreIncomplete = (vmId, mark) => (calls.push(`mark ${mark.state}`), markRestoreIncomplete(vmId, mark));
  const session = await quickRollback(ctx, first.manifest.id);
  platforms.openDiskForWrite = openDiskForWrite;
  platforms.markRestoreIncomplete = markRestoreIncomplete;
  assert.deepEqual(calls, ['open disk0 for write', 'mark writing'], 'the writable export starts before the VM is marked, once');
  const texts = session.log.map((l) => l.text);
  assert.ok(texts.some((t) => t.startsWith(`Changed-block tracking of disk disk0 since the restore point of ${second.manifest.createdAt} names 3 blocks`)), JSON.stringify(texts));
  const counters = diskCounters(session.log);
  assert.deepEqual(counters, { fetched: 1, written: 1, zeroed: 2, unchanged: 61 }, 'only the three blocks are written');
  const diskLine = texts.find((t) => t.startsWith('Disk disk0:'))!;
  assert.doesNotMatch(diskLine, /compared/, `nothing of the disk was read for a comparison: ${diskLine}`);
  assert.equal(lv.virsh('domstate', vm.id).trim(), 'shut off');
  let source = await kvm.openDisk(vm.id, 'disk0');
  try {
    assert.ok((await source.read(0, DISK)).equals(expected), 'the disk holds the first point again');
  } finally {
    await source.close();
  }

  // The chain broken: libvirt forgets its checkpoints and the image loses its bitmaps.
  for (const name of lv.virsh('checkpoint-list', vm.id, '--name').split('\n').map((l) => l.trim()).filter(Boolean)) lv.virsh('checkpoint-delete', vm.id, name, '--metadata');
  for (const name of bitmaps(image)) execFileSync('qemu-img', ['bitmap', '--remove', '-f', 'qcow2', image, name]);
  const again = await quickRollback(ctx, second.manifest.id);
  const againTexts = again.log.map((l) => l.text);
  assert.ok(againTexts.some((t) => /^Changed-block tracking of disk disk0 does not reach the restore point \(.*\): comparing the whole disk with it instead$/.test(t)), JSON.stringify(againTexts));
  assert.match(againTexts.find((t) => t.startsWith('Disk disk0:'))!, /fetched 2 blocks .* wrote 2 blocks, zeroed 0 blocks, .*compared 16\.0 MiB of the current disk/);
  expected.fill(0xee, 3 * MIB, 3 * MIB + 64 * 1024);
  expected.fill(0xdd, 20 * MIB, 20 * MIB + 64 * 1024);
  source = await kvm.openDisk(vm.id, 'disk0');
  try {
    assert.ok((await source.read(0, DISK)).equals(expected), 'the disk holds the second point');
  } finally {
    await source.close();
  }
});
