import type { Command } from 'commander';
import { withApp } from './open-app.js';
import { syncRestorePoints } from '../services/backup/sync-restore-points.js';
import { badRequest } from '../errors.js';
import { byAge } from '../repository/repository-catalog.js';

/** `openem repo check [--read-data]` and `openem repo forget --keep N [--vm NAME]` (retention + gc). */
export function registerRepoCommand(program: Command) {
  const repo = program.command('repo').description('the backup repository');
  repo
    .command('check')
    .option('--read-data', 'also read every block and verify its hash')
    .option('--json')
    .action(async (opts: { readData?: boolean; json?: boolean }) => {
      const result = await withApp((ctx) => ctx.repository.check({ readData: !!opts.readData }));
      if (opts.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else {
        process.stdout.write(`${result.manifests} restore points, ${result.packs} packs, ${result.blocksChecked} blocks checked\n`);
        for (const p of result.problems) process.stdout.write(`problem: ${p}\n`);
        process.stdout.write(result.ok ? 'repository is clean\n' : 'repository has problems\n');
      }
      if (!result.ok) process.exitCode = 2;
    });
  repo
    .command('copy')
    .description('copy the whole repository to another location (e.g. s3://bucket/prefix) that holds none; no backup or gc runs meanwhile')
    .requiredOption('--to <url>', 'target: s3://bucket/prefix (OPENEM_S3_* and AWS credentials from the environment), file:// URL or path')
    .option('--json')
    .action(async (opts: { to: string; json?: boolean }) => {
      const result = await withApp((ctx) => ctx.repository.copyTo(opts.to));
      if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
      else {
        process.stdout.write(
          `copied ${result.objects} objects (${(result.bytes / 2 ** 20).toFixed(1)} MiB)${result.skipped ? `, ${result.skipped} already there` : ''} to ${opts.to}\n` +
            `check it with OPENEM_REPOSITORY_URL=${opts.to} openem repo check --read-data\n`,
        );
      }
    });
  repo
    .command('forget')
    .requiredOption('--keep <n>', 'restore points to keep per VM (newest)')
    .option('--vm <name>', 'only this VM')
    .action(async (opts: { keep: string; vm?: string }) => {
      const keep = Number(opts.keep);
      if (!Number.isInteger(keep) || keep < 1) throw badRequest('--keep must be a whole number of at least 1');
      await withApp(async (ctx) => {
        const manifests = await ctx.repository.listManifests();
        const byVm = new Map<string, typeof manifests>();
        for (const m of manifests) if (!opts.vm || m.vmName === opts.vm) byVm.set(m.vmId, [...(byVm.get(m.vmId) ?? []), m]);
        const drop: string[] = [];
        for (const list of byVm.values()) {
          list.sort((a, b) => byAge(b, a));
          drop.push(...list.slice(keep).map((m) => m.id));
        }
        await ctx.repository.forget(drop);
        await syncRestorePoints(ctx);
        const gc = await ctx.repository.gc();
        process.stdout.write(`forgot ${drop.length} restore points; gc deleted ${gc.packsDeleted} packs (${(gc.bytesFreed / 2 ** 20).toFixed(1)} MiB)\n`);
      });
    });
}
