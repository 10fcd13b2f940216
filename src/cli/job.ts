import type { Command } from 'commander';
import { withApp } from './open-app.js';
import { createJob, listJobs } from '../services/backup/jobs.js';
import { notFound } from '../errors.js';

/** `openem job create NAME --vm a,b` and `openem job list`: jobs the API can start (`POST /jobs/{ID}?action=start`). */
export function registerJobCommand(program: Command) {
  const job = program.command('job').description('backup jobs (lists of VMs)');
  job
    .command('create <name>')
    .requiredOption('--vm <names>', 'comma-separated VM names')
    .action(async (name: string, opts: { vm: string }) => {
      const j = await withApp(async (ctx) => {
        const vms = opts.vm.split(',').map((s) => s.trim()).filter(Boolean);
        for (const v of vms) if (!(await ctx.platform.findVm(v))) throw notFound(`VM ${v} does not exist`);
        return createJob(ctx, name, vms);
      });
      process.stdout.write(`job ${j.name} created (${j.id})\n`);
    });
  job
    .command('list')
    .option('--json')
    .action(async (opts: { json?: boolean }) => {
      const jobs = await withApp((ctx) => listJobs(ctx));
      if (opts.json) return void process.stdout.write(JSON.stringify(jobs, null, 2) + '\n');
      for (const j of jobs) process.stdout.write(`${j.name}\t${j.id}\t${j.vmNames.join(',')}\n`);
    });
}
