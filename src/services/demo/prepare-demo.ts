import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppContext } from '../app-services.js';
import { createDemoVms } from '../../platform/demo/demo-vms.js';
import { writeGuestFiles } from '../../guestfs/ext4-writer.js';
import { ROOT_PARTITION_OFFSET } from '../../platform/local/create-vm-from-directory.js';
import { defaultJobFor } from '../backup/jobs.js';
import { runBackupSession } from '../backup-sessions/run-backup-session.js';

/**
 * `openem serve --demo` on an empty data directory: demo VMs, a Full backup of each, a change in each guest,
 * then an Increment — so a new user can try every restore kind at once (issue #3 §1).
 */
export async function prepareDemo(ctx: AppContext): Promise<void> {
  if ((await ctx.platform.listVms()).length > 0) return;
  const say = (line: string) => process.stdout.write(`openem demo: ${line}\n`);
  say('creating demo VMs (web01, db01, files01, app01)…');
  const vms = await createDemoVms(ctx.localPlatform, ctx.config.dataDir, { log: (l: string) => ctx.log.info(l) });
  const scratch = await mkdtemp(join(tmpdir(), 'openem-demo-'));
  try {
    for (const vm of vms) {
      say(`backing up ${vm.name} (Full)…`);
      const job = await defaultJobFor(ctx, vm.name);
      // Recorded as backup job sessions, like every backup run, so the monitoring resources have history.
      const backup = async () => {
        const run = await runBackupSession(ctx, job, { owner: `server ${ctx.nodeId}` });
        if (run.failures.length > 0) throw run.failures[0].error;
      };
      await backup();
      // A change in the guest so the second point is a real increment and rollbacks have something to undo.
      const changed = join(scratch, `${vm.name}-motd`);
      await writeFile(changed, `Welcome to ${vm.name}. Changed after the first backup at ${new Date(ctx.clock.now()).toISOString()}.\n`);
      const disk = vm.disks[0];
      const image = await ctx.platform.diskImageLocation(vm.id, disk.name);
      await writeGuestFiles(image.path, ROOT_PARTITION_OFFSET, [
        { guestPath: '/etc/motd', type: 'file', sourceFile: changed, mode: 0o644, uid: 0, gid: 0, mtime: new Date(ctx.clock.now()) },
      ]);
      say(`backing up ${vm.name} (Increment)…`);
      await backup();
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  say('demo data ready');
}
