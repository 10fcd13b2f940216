import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { withApp } from './open-app.js';
import { byteProgress } from './progress-bar.js';
import { backupVm } from '../services/backup/backup-vm.js';
import { getJob } from '../services/backup/jobs.js';

/** `openem backup VM... [--job NAME]`: backs VMs up now, with a progress bar per disk. */
export function registerBackupCommand(program: Command) {
  program
    .command('backup <vms...>')
    .description('back up VMs into the repository (Full the first time, then Increments)')
    .option('--job <name>', 'record the points under this job (default: one job per VM, "Backup <vm>")')
    .option('--json', 'print the results as JSON')
    .action(async (vms: string[], opts: { job?: string; json?: boolean }) => {
      await withApp(async (ctx) => {
        const job = opts.job ? await getJob(ctx, opts.job) : undefined;
        const restorePointId = job ? randomUUID() : undefined;
        const results = [];
        for (const name of vms) {
          const bar = byteProgress(`backup ${name}`);
          try {
            const r = await backupVm(ctx, name, { jobId: job?.id, restorePointId, onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal) });
            results.push(r);
            bar.stop();
            if (!opts.json) {
              const s = r.stats;
              process.stdout.write(
                `${name}: ${r.manifest.pointType} restore point ${r.manifest.id} — ${s.blocksTotal} blocks, ${s.blocksZero} zero, ${s.blocksNew} new, ${(s.bytesStored / 2 ** 20).toFixed(1)} MiB stored\n`,
              );
            }
          } catch (e) {
            bar.stop();
            throw e;
          }
        }
        if (opts.json) process.stdout.write(JSON.stringify(results.map((r) => ({ id: r.manifest.id, vm: r.manifest.vmName, pointType: r.manifest.pointType, stats: r.stats })), null, 2) + '\n');
      });
    });
}
