import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { AppContext } from '../app-services.js';
import type { VmConfig } from '../../platform/platform.js';
import { createDemoVms } from '../../platform/demo/demo-vms.js';
import { Fuse2fsWriter } from '../../guestfs/ext4/fuse2fs-writer.js';
import { ROOT_PARTITION_OFFSET } from '../../platform/local/create-vm-from-directory.js';
import { firstLocalPlatform } from '../../platform/local/local-admin.js';
import { defaultJobFor } from '../backup/jobs.js';
import { runBackupSession } from '../backup-sessions/run-backup-session.js';
import { liveGuestTarget, liveGuestWriter } from '../guest-restore/write-to-live-vm.js';

/** One line of the demo's progress, on standard output. */
export const say = (line: string) => process.stdout.write(`openem demo: ${line}\n`);

/**
 * `openem serve --demo` on an empty data directory: demo VMs, a Full backup of each, a change in each guest,
 * then an Increment — so a new user can try every restore kind at once (issue #3 §1).
 */
export async function prepareDemo(ctx: AppContext): Promise<void> {
  if ((await ctx.platform.listVms()).length > 0) return;
  say('creating demo VMs (web01, db01, files01, app01, exch01)…');
  const vms = await createDemoVms(firstLocalPlatform(ctx.platform), ctx.config.dataDir, { log: (l: string) => ctx.log.info(l) });
  await backUpAroundAChange(ctx, vms);
  say('demo data ready');
}

/**
 * Each VM backed up twice, with a change in its guest between (Windows: a note in Administrator's documents;
 * Linux: /etc/motd in the ext4 at `linuxRootOffset`, 1 MiB unless said), so the second point is a real increment and rollbacks have something to
 * undo. The backups are recorded as backup job sessions, like every backup run, so monitoring has history.
 */
export async function backUpAroundAChange(ctx: AppContext, vms: readonly VmConfig[], linuxRootOffset = ROOT_PARTITION_OFFSET): Promise<void> {
  for (const vm of vms) {
    say(`backing up ${vm.name} (Full)…`);
    const job = await defaultJobFor(ctx, vm.name);
    const backup = async () => {
      const run = await runBackupSession(ctx, job, { owner: `server ${ctx.nodeId}` });
      if (run.failures.length > 0) throw run.failures[0].error;
    };
    await backup();
    const when = new Date(ctx.clock.now()).toISOString();
    if (vm.guestOs === 'windows') {
      await changeWindowsNotes(ctx, vm.id, Buffer.from(`Changed on ${vm.name} after the first backup at ${when}.\r\n`));
    } else {
      const motd = Buffer.from(`Welcome to ${vm.name}. Changed after the first backup at ${when}.\n`);
      const disk = await ctx.platform.exposeDisk(vm.id, vm.disks[0].name);
      try {
        await changeMotd(ctx, disk.endpoint.path, linuxRootOffset, motd);
      } finally {
        await disk.close();
      }
    }
    say(`backing up ${vm.name} (Increment)…`);
    await backup();
  }
}

/** Replaces /etc/motd in the demo guest's ext4 (at the root partition of the image, or where `offset` says). */
async function changeMotd(ctx: AppContext, imagePath: string, offset: number, motd: Buffer): Promise<void> {
  const writer = new Fuse2fsWriter({ imagePath, offset, workRoot: join(ctx.config.dataDir, 'flr-work') });
  await writer.write({
    parent: [Buffer.from('etc')],
    item: {
      type: 'file',
      name: Buffer.from('motd'),
      attrs: { mode: 0o644, uid: 0, gid: 0, mtime: new Date(ctx.clock.now()) },
      size: motd.length,
      dataRanges: [{ start: 0, end: motd.length }],
      read: async () => Readable.from([motd]),
    },
    onExisting: 'replace',
  });
}

/** Replaces C:/Users/Administrator/Documents/notes.txt in the Windows demo guest, through the NTFS restore writer. */
async function changeWindowsNotes(ctx: AppContext, vmId: string, notes: Buffer): Promise<void> {
  const target = await liveGuestTarget(ctx, vmId, { diskName: 'disk0', partitionIndex: 1, kind: 'ntfs' });
  try {
    await liveGuestWriter(ctx, target).write({
      parent: ['Users', 'Administrator', 'Documents'].map((n) => Buffer.from(n)),
      item: {
        type: 'file',
        name: Buffer.from('notes.txt'),
        attrs: { mtime: new Date(ctx.clock.now()) },
        size: notes.length,
        dataRanges: [{ start: 0, end: notes.length }],
        read: async () => Readable.from([notes]),
      },
      onExisting: 'replace',
    });
  } finally {
    await target.disk.close();
  }
}
