// Issue #13 step 2: backups of a KVM VM with changed-block tracking. The first backup is full; the next reads only
// the extents the guest wrote since (asserted from the bytes read); a lost checkpoint means a full read.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createBaseContext } from '../../../src/app-context.js';
import { attachServices } from '../../../src/attach-services.js';
import { loadConfig } from '../../../src/config.js';
import { BLOCK_SIZE } from '../../../src/disks/block-source.js';
import { createLogger } from '../../../src/logger.js';
import { backupVm } from '../../../src/services/backup/backup-vm.js';
import { defaultJobFor } from '../../../src/services/backup/jobs.js';
import { listTaskSessions } from '../../../src/services/backup-sessions/backup-session-store.js';
import { runBackupSession } from '../../../src/services/backup-sessions/run-backup-session.js';
import { removeEverything, useSharedLibvirt } from '../../platform/kvm/private-libvirt.js';

const libvirt = useSharedLibvirt();
const MIB = 1024 * 1024;

test('backups of a running KVM VM: full first, then only the blocks the guest wrote, and a full read once the checkpoint is gone, and the session says why and how the VM was read', async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const dataDir = await mkdtemp(join(tmpdir(), 'openem-kvm-backup-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ env: { OPENEM_LIBVIRT_URI: lv.uri }, flags: { dataDir } });
  const base = await createBaseContext(config, createLogger('silent'), { announce: () => {} });
  const ctx = await attachServices(base, { demo: false, startTasks: false });
  t.after(async () => {
    await ctx.shutdown();
    await base.store.close();
  });
  const kvm = ctx.platform.get('kvm')!;
  const staged = await kvm.stageNewVm({
    name: 'cbt01', cpus: 1, memoryMiB: 64, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere',
    hierarchyRootId: '', datastoreId: '', disks: [{ name: 'disk0', size: 64 * MIB }],
  });
  const w = await staged.openDiskForWrite('disk0');
  for (let b = 0; b < 16; b++) await w.write(b * BLOCK_SIZE, Buffer.alloc(BLOCK_SIZE, b + 1));
  await w.close();
  const vm = await staged.commit();
  await kvm.setPowerState(vm.id, 'PoweredOn');

  const full = await backupVm(ctx, 'cbt01');
  assert.equal(full.manifest.pointType, 'Full');
  assert.equal(full.stats.bytesRead, 16 * BLOCK_SIZE, 'the full backup reads the data and no hole');
  assert.ok(full.manifest.disks[0].checkpoint, 'the point records the checkpoint it was read at');
  assert.deepEqual(full.notes, [{ text: 'Disk disk0: read live, crash-consistent: the QEMU guest agent is not connected (channel disconnected): it does not run in the guest' }], 'the backup says how the running VM was read');

  // The guest changes ~1% of the disk: 640 KiB in one block.
  lv.virsh('qemu-monitor-command', vm.id, '--hmp', 'qemu-io -d /machine/peripheral/ua-disk0/virtio-backend "write -P 0xee 40M 640k"');
  const increment = await backupVm(ctx, 'cbt01');
  assert.equal(increment.manifest.pointType, 'Increment');
  assert.ok(increment.stats.bytesRead <= BLOCK_SIZE, `the increment reads only the dirty extents (${increment.stats.bytesRead} bytes)`);
  assert.ok(increment.stats.bytesRead >= 640 * 1024);
  assert.equal(increment.manifest.disks[0].blocks.filter((h) => h !== null).length, 17, 'the carried blocks and the new one');

  const lost = increment.manifest.disks[0].checkpoint!;
  lv.virsh('checkpoint-delete', vm.id, lost);
  // Through a backup job session, as the API runs one: its task session's Reason says what happened.
  const outcome = await runBackupSession(ctx, await defaultJobFor(ctx, 'cbt01'), { owner: 'test' });
  const afterBreak = outcome.results[0];
  assert.equal(afterBreak.stats.bytesRead, 17 * BLOCK_SIZE, 'a broken chain is a full read of the data');
  assert.deepEqual(afterBreak.manifest.disks[0].blocks, increment.manifest.disks[0].blocks, 'and finds the same disk');
  const [task] = await listTaskSessions(ctx, { jobSessionId: outcome.session.id });
  assert.equal(task.result, 'Success');
  assert.equal(
    task.reason,
    `Disk disk0: changed-block tracking cannot count from the previous restore point (libvirt has no checkpoint ${lost} of the VM any more (deleted, or the VM was redefined)); the disk was read in full; ` +
      'Disk disk0: read live, crash-consistent: the QEMU guest agent is not connected (channel disconnected): it does not run in the guest',
  );
});
