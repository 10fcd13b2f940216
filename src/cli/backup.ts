import type { Command } from 'commander';
import { withApp } from './open-app.js';
import { byteProgress } from './progress-bar.js';
import { defaultJobFor, getJob, type JobRecord } from '../services/backup/jobs.js';
import { runBackupSession } from '../services/backup-sessions/run-backup-session.js';
import type { BackupResult } from '../services/backup/backup-vm.js';
import { notFound, badRequest } from '../errors.js';

/**
 * `openem backup VM... [--job NAME] [--wait SECONDS]`: backs VMs up now, with a progress bar per disk. Each run is a backup job
 * session: one for all VMs under `--job`, else one per VM under its default job.
 */
export function registerBackupCommand(program: Command) {
  program
    .command('backup <vms...>')
    .description('back up VMs into the repository (Full the first time, then Increments)')
    .option('--job <name>', 'record the points under this job (default: one job per VM, "Backup <vm>")')
    .option('--json', 'print the results as JSON')
    .option('--wait <seconds>', 'wait up to this long for a restore of the VM to finish first (default: refuse at once)', '0')
    .action(async (vms: string[], opts: { job?: string; json?: boolean; wait: string }) => {
      const waitSeconds = Number(opts.wait);
      if (!Number.isFinite(waitSeconds) || waitSeconds < 0) throw badRequest(`--wait takes a number of seconds, not '${opts.wait}'`);
      await withApp(async (ctx) => {
        const runs: { job: JobRecord; vmNames: string[] }[] = [];
        if (opts.job) runs.push({ job: await getJob(ctx, opts.job), vmNames: vms });
        else
          for (const name of vms) {
            const vm = await ctx.platform.findVm(name);
            if (!vm) throw notFound(`VM ${name} was not found`);
            runs.push({ job: await defaultJobFor(ctx, vm.name), vmNames: [vm.name] });
          }
        const results: BackupResult[] = [];
        for (const run of runs) {
          let bar: ReturnType<typeof byteProgress> | undefined;
          let barVm = '';
          const outcome = await runBackupSession(ctx, run.job, {
            vmNames: run.vmNames,
            owner: `cli ${process.pid}`,
            holder: opts.job ? `backup job "${run.job.name}" (openem backup)` : 'openem backup',
            waitMs: waitSeconds * 1000,
            onProgress: (p) => {
              if (p.vmName !== barVm) {
                bar?.stop();
                bar = byteProgress(`backup ${p.vmName}`);
                barVm = p.vmName;
              }
              bar!.update(p.bytesDone, p.bytesTotal);
            },
            onVmFinished: (name, o) => {
              bar?.stop();
              bar = undefined;
              barVm = '';
              if (!o.result || opts.json) return;
              const s = o.result.stats;
              process.stdout.write(
                `${name}: ${o.result.manifest.pointType} restore point ${o.result.manifest.id} — ${s.blocksTotal} blocks, ${s.blocksZero} zero, ${s.blocksNew} new, ${(s.bytesStored / 2 ** 20).toFixed(1)} MiB stored\n`,
              );
              for (const n of o.result.notes) process.stdout.write(`  ${n.warning ? 'warning: ' : ''}${n.text}\n`);
            },
          });
          results.push(...outcome.results);
          if (outcome.failures.length > 0) throw outcome.failures[0].error;
        }
        if (opts.json) process.stdout.write(JSON.stringify(results.map((r) => ({ id: r.manifest.id, vm: r.manifest.vmName, pointType: r.manifest.pointType, stats: r.stats, notes: r.notes })), null, 2) + '\n');
      });
    });
}
