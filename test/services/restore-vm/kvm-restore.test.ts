// Issue #13 step 3: an entire-VM restore of a running KVM VM to the original VM: powered off first, as EM does,
// the disk written back through qemu-nbd, and the VM's disk holds exactly the restore point's bytes.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createBaseContext } from '../../../src/app-context.js';
import { attachServices } from '../../../src/attach-services.js';
import { loadConfig } from '../../../src/config.js';
import { BLOCK_SIZE } from '../../../src/disks/block-source.js';
import { createLogger } from '../../../src/logger.js';
import { backupVm } from '../../../src/services/backup/backup-vm.js';
import { findVmRestorePoint } from '../../../src/services/inventory/restore-point-records.js';
import { startVmRestore } from '../../../src/services/restore-vm/start-vm-restore.js';
import { removeEverything, useSharedLibvirt } from '../../platform/kvm/private-libvirt.js';
import { ADMIN_PASSWORD } from '../../helpers/server-process.js';
import { adminPrincipal, diskCounters, sessionOfTask, waitForStopped } from './restore-fixtures.js';

const libvirt = useSharedLibvirt();
const MIB = 1024 * 1024;

test('QuickRollback of a running KVM VM powers it off, writes back only the blocks that differ, and leaves the disk as at the point', async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const dataDir = await mkdtemp(join(tmpdir(), 'openem-kvm-restore-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  // The guest has no OS to answer ACPI: the power-off destroys it after a second.
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
    name: 'rb01', cpus: 1, memoryMiB: 64, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere',
    hierarchyRootId: '', datastoreId: '', disks: [{ name: 'disk0', size: 32 * MIB }],
  });
  const w = await staged.openDiskForWrite('disk0');
  for (let b = 0; b < 8; b++) await w.write(b * BLOCK_SIZE, Buffer.alloc(BLOCK_SIZE, b + 1));
  await w.close();
  const vm = await staged.commit();
  await kvm.setPowerState(vm.id, 'PoweredOn');
  const point = await backupVm(ctx, 'rb01');

  lv.virsh('qemu-monitor-command', vm.id, '--hmp', 'qemu-io -d /machine/peripheral/ua-disk0/virtio-backend "write -P 0xee 3M 64k"');
  lv.virsh('qemu-monitor-command', vm.id, '--hmp', 'qemu-io -d /machine/peripheral/ua-disk0/virtio-backend "write -P 0xdd 20M 64k"');

  const record = (await findVmRestorePoint(ctx, point.manifest.id))!;
  const task = await startVmRestore(ctx, await adminPrincipal(ctx), record, {
    vmRestorePointId: point.manifest.id, powerOnAfterRestore: false, quickRollback: true, target: { kind: 'original' },
  });
  const session = await waitForStopped(ctx, await sessionOfTask(ctx, task.taskId));
  assert.equal(session.result, 'Success', session.failureMessage);
  const counters = diskCounters(session.log);
  assert.equal(counters.fetched, 1, 'only the changed data block is fetched');
  assert.equal(lv.virsh('domstate', vm.id).trim(), 'shut off', 'the VM was powered off for the restore and stays off');

  const source = await kvm.openDisk(vm.id, 'disk0');
  try {
    const expected = Buffer.alloc(32 * MIB);
    for (let b = 0; b < 8; b++) expected.fill(b + 1, b * BLOCK_SIZE, (b + 1) * BLOCK_SIZE);
    assert.ok((await source.read(0, 32 * MIB)).equals(expected), 'the disk holds the point again');
  } finally {
    await source.close();
  }
});
