import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { EmClient } from '../sdk/em-client.js';
import type { EmRestoreSpec } from '../sdk/em-types.js';
import { badRequest, notFound } from '../errors.js';

interface ClientFlags {
  server: string;
  user: string;
  passwordStdin?: boolean;
  insecure?: boolean;
}

async function password(flags: ClientFlags): Promise<string> {
  if (flags.passwordStdin) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  const env = process.env.OPENEM_CLIENT_PASSWORD;
  if (env) return env;
  throw badRequest('give the password with --password-stdin or OPENEM_CLIENT_PASSWORD');
}

/** A percent bar on a terminal; a line per change of 10 % otherwise. */
function percentBar(label: string) {
  if (!process.stderr.isTTY) {
    let last = -1;
    return { update: (p: number, state: string) => { const d = Math.floor(p / 10); if (d !== last) { last = d; process.stderr.write(`${label}: ${p}% (${state})\n`); } }, stop: () => {} };
  }
  const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {percentage}% {state}`, stream: process.stderr }, cliProgress.Presets.shades_classic);
  bar.start(100, 0, { state: 'Starting' });
  return { update: (p: number, state: string) => bar.update(p, { state }), stop: () => bar.stop() };
}

/**
 * `openem client …`: drives an Enterprise Manager-compatible server (openem or Enterprise Manager itself)
 * through the typed SDK, the way an automation script would.
 */
export function registerClientCommand(program: Command) {
  const client = program.command('client').description('use the restore API of an openem or Enterprise Manager server');
  const common = (c: Command) =>
    c
      .requiredOption('--server <url>', 'e.g. https://em.example:9398')
      .requiredOption('--user <name>', 'account to log on with')
      .option('--password-stdin', 'read the password from standard input (else OPENEM_CLIENT_PASSWORD)')
      .option('--insecure', 'accept a self-signed certificate');

  common(client.command('points [vm]').description('list VM restore points, newest first').option('--json')).action(async (vm: string | undefined, flags: ClientFlags & { json?: boolean }) => {
    const em = new EmClient({ server: flags.server, insecure: flags.insecure });
    const session = await em.logOn(flags.user, await password(flags));
    try {
      const points = await em.vmRestorePoints(vm);
      if (flags.json) process.stdout.write(JSON.stringify(points, null, 2) + '\n');
      else for (const p of points) process.stdout.write(`${p.UID}\t${p.Name}\t${p.PointType}\n`);
    } finally {
      await em.logOff(session);
    }
  });

  common(client.command('restore-vm <vm>').description('restore a VM from its newest (or a given) restore point and wait for the restore session'))
    .option('--point <uid>', 'restore point UID or id (default: the newest)')
    .option('--quick-rollback', 'write only the blocks that differ')
    .option('--keep-original', 'restore beside the original VM under a new name')
    .option('--power-on', 'power the VM on afterwards')
    .action(async (vm: string, flags: ClientFlags & { point?: string; quickRollback?: boolean; keepOriginal?: boolean; powerOn?: boolean }) => {
      const em = new EmClient({ server: flags.server, insecure: flags.insecure });
      const session = await em.logOn(flags.user, await password(flags));
      try {
        const points = await em.vmRestorePoints(vm);
        const id = flags.point?.replace(/^urn:veeam:VmRestorePoint:/i, '').toLowerCase();
        const point = id ? points.find((p) => p.UID?.toLowerCase().endsWith(id)) : points[0];
        if (!point) throw notFound(id ? `restore point ${flags.point} of ${vm} not found` : `VM ${vm} has no restore points`);
        const spec: EmRestoreSpec = { VmRestoreSpec: { PowerOnAfterRestore: !!flags.powerOn, QuickRollback: !!flags.quickRollback, ...(flags.keepOriginal ? { KeepOriginalVM: true } : {}) } };
        const task = await em.waitForTask(await em.startVmRestore(point, spec));
        if (!task.Result?.Success) throw new Error(`restore did not start: ${task.Result?.Message ?? 'unknown reason'}`);
        const bar = percentBar(`restore ${vm}`);
        const end = await em.waitForRestoreSession(task, (s) => bar.update(s.Progress ?? 0, s.State));
        bar.stop();
        process.stdout.write(`${end.Name}: ${end.Result}${end.FailureMessage ? ` — ${end.FailureMessage}` : ''}\n`);
        if (end.Result !== 'Success' && end.Result !== 'Warning') process.exitCode = 2;
      } finally {
        await em.logOff(session);
      }
    });
}
