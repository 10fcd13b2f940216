import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { badRequest, isOpenemError, notFound } from '../errors.js';
import { createBaseContext } from '../app-context.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { VmClaims } from '../tasks/vm-claims.js';
import type { GuestOsKind, Platform, PresentedPlatform, VmConfig, VmDiskConfig } from '../platform/platform.js';
import { createVmFromDirectory } from '../platform/local/create-vm-from-directory.js';
import { asLocalPlatform, firstLocalPlatform } from '../platform/local/local-admin.js';
import type { LocatedVm } from '../platform/local/vm-folders.js';
import { openPlatforms } from '../platform/open-platforms.js';
import type { PlatformRegistry } from '../platform/platform-registry.js';
import { describeRestoreMark } from '../platform/restore-incomplete-mark.js';

const SIZE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Parses `8G`, `512M`, `1.5T`, `4096` (binary units; a trailing `B`/`iB` is allowed) into bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) throw badRequest(`cannot read size '${text}' (examples: 8G, 512M, 1T)`);
  const bytes = Math.round(Number(m[1]) * SIZE_UNITS[m[2].toUpperCase()]);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw badRequest(`size '${text}' is out of range`);
  return bytes;
}

function formatSize(bytes: number): string {
  for (const [unit, factor] of [['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]] as const) {
    if (bytes >= factor && bytes % (factor / 16) === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}`;
}

type VmDescription = Omit<VmConfig, 'disks'> & { folder: string; disks: (VmDiskConfig & { path: string })[] };

/** What `vm show` prints: the stored config plus where each disk image is. */
function describeVm(vm: LocatedVm): VmDescription {
  return {
    ...vm.config,
    folder: vm.dir,
    disks: vm.json.disks.map((d) => ({ name: d.name, size: d.size, path: resolve(vm.dir, d.file) })),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

/**
 * `openem vm create|list|show|power-on|power-off|restore-abandon|rm`: manage the VMs of the configured platforms
 * (`create`, `show` and `rm` are the local platform's own: they work on its folders directly).
 * Every invocation opens the platforms afresh, so it is safe while the server runs on the same directory.
 */
export function registerVmCommand(program: Command, dataDir: () => string): Command {
  const vm = program.command('vm').description("manage the local platform's VMs in the data directory");
  const out = (cmd: Command, text: string) => cmd.configureOutput().writeOut!(text);
  const configNow = () => loadConfig({ flags: { dataDir: dataDir() } });
  const openRegistry = () => openPlatforms(configNow());
  /** The VM and its folder on the local platform it lives on. */
  const locateLocal = async (registry: PlatformRegistry, name: string): Promise<LocatedVm> => asLocalPlatform(await registry.platformOf(name)).locate(name);

  /**
   * Runs `change` of VM `name` while holding its claim, so that it is refused (CONFLICT naming the holder) while
   * a restore or backup works on the VM, and no restore starts writing (and marking) it meanwhile.
   */
  const withVmClaim = async (name: string, holder: string, change: (platform: Platform, v: VmConfig) => Promise<void>) => {
    const registry = await openRegistry();
    const located = await registry.locate(name);
    if (!located) throw notFound(`no VM with id or name '${name}'`);
    const config = configNow();
    const base = await createBaseContext(config, createLogger(process.env.OPENEM_LOG_LEVEL ?? 'warn', process.stderr as never), {
      announce: (l) => process.stderr.write(l + '\n'),
    });
    const claims = new VmClaims(base);
    try {
      const claim = await claims.claim({ id: located.vm.id, name: located.vm.name }, 'power', holder);
      try {
        // As it is now that nothing else changes it.
        const now = await located.platform.findVm(located.vm.id);
        if (!now) throw notFound(`no VM with id or name '${name}'`);
        await change(located.platform, now);
      } finally {
        await claim.release();
      }
    } finally {
      claims.stop();
      await base.store.close();
    }
  };

  // Catalogue errors are the user's to fix; print them plainly and exit 1. Anything else is a bug: keep the stack.
  const run =
    <A extends unknown[]>(fn: (cmd: Command, ...args: A) => Promise<void>) =>
    async function (this: Command, ...args: A) {
      try {
        await fn(this, ...args);
      } catch (e) {
        if (isOpenemError(e)) this.error(`error: ${e.message}`, { exitCode: 1, code: `openem.${e.code}` });
        throw e;
      }
    };

  vm.command('create')
    .description('create a VM whose disk holds a copy of a directory: ext4 for Linux, NTFS for Windows')
    .argument('<name>', 'VM name')
    .requiredOption('--from-dir <dir>', 'directory whose contents become the root filesystem')
    .requiredOption('--size <size>', 'virtual disk size, e.g. 8G (rounded up to whole MiB)')
    .addOption(new Option('--platform <platform>', 'platform the VM presents as').choices(['vsphere', 'hyperv', 'vcloud']).default('vsphere'))
    .addOption(new Option('--os <os>', 'guest OS').choices(['linux', 'windows']).default('linux'))
    .addOption(new Option('--partition-table <table>', 'partition table (Windows: mbr by default; Linux: gpt)').choices(['mbr', 'gpt']))
    .action(
      run(async (cmd, name: string, o: { fromDir: string; size: string; platform: PresentedPlatform; os: GuestOsKind; partitionTable?: 'mbr' | 'gpt' }) => {
        const size = parseSize(o.size);
        const created = await createVmFromDirectory(firstLocalPlatform(await openRegistry()), { name, fromDir: resolve(o.fromDir), size, platform: o.platform, os: o.os, partitionTable: o.partitionTable });
        out(cmd, `created VM ${created.name} (${created.id}) on ${created.platform}, disk ${formatSize(created.disks[0].size)}\n`);
      }),
    );

  vm.command('list')
    .description('list VMs')
    .option('--json', 'print JSON')
    .action(
      run(async (cmd, o: { json?: boolean }) => {
        const vms = await (await openRegistry()).listVms();
        if (o.json) return out(cmd, JSON.stringify(vms, null, 2) + '\n');
        if (vms.length === 0) return out(cmd, 'no VMs\n');
        const rows = [['NAME', 'PLATFORM', 'POWER', 'DISKS', 'ID']];
        for (const v of vms) {
          rows.push([v.name, v.platform, v.restoreIncomplete ? `${v.powerState} (restore incomplete)` : v.powerState, v.disks.map((d) => formatSize(d.size)).join(',') || '-', v.id]);
        }
        out(cmd, table(rows));
      }),
    );

  vm.command('show')
    .description("show a VM's config and the absolute paths of its disk images")
    .argument('<name>', 'VM name or id')
    .option('--json', 'print JSON')
    .action(
      run(async (cmd, name: string, o: { json?: boolean }) => {
        const d = describeVm(await locateLocal(await openRegistry(), name));
        if (o.json) return out(cmd, JSON.stringify(d, null, 2) + '\n');
        const lines = [
          `name:        ${d.name}`,
          `id:          ${d.id}`,
          `platform:    ${d.platform}`,
          `power:       ${d.powerState}`,
          `guest OS:    ${d.guestOs}`,
          `cpus:        ${d.cpus}`,
          `memory:      ${d.memoryMiB} MiB`,
          `folder:      ${d.folder}`,
          `created:     ${d.createdAt}`,
          ...d.disks.map((disk) => `disk ${disk.name}:  ${formatSize(disk.size)}  ${disk.path}`),
          ...(d.restoreIncomplete ? [`restore:     ${describeRestoreMark(d.name, d.restoreIncomplete)}`] : []),
        ];
        out(cmd, lines.join('\n') + '\n');
      }),
    );

  vm.command('power-on')
    .description('power a VM on (refused while it is marked restore incomplete)')
    .argument('<name>', 'VM name or id')
    .option('--force', 'power on a VM whose restore was abandoned (openem vm restore-abandon), accepting its undefined disk content')
    .action(
      run(async (cmd, name: string, o: { force?: boolean }) => {
        await withVmClaim(name, 'openem vm power-on', async (platform, v) => {
          await platform.setPowerState(v.id, 'PoweredOn', { force: o.force === true });
          out(cmd, `VM ${v.name} powered on${v.restoreIncomplete ? ' (forced: its abandoned restore left its disk content undefined)' : ''}\n`);
        });
      }),
    );

  vm.command('power-off')
    .description('power a VM off')
    .argument('<name>', 'VM name or id')
    .action(
      run(async (cmd, name: string) => {
        await withVmClaim(name, 'openem vm power-off', async (platform, v) => {
          await platform.setPowerState(v.id, 'PoweredOff');
          out(cmd, `VM ${v.name} powered off\n`);
        });
      }),
    );

  vm.command('restore-abandon')
    .description('give up on the incomplete restore a VM is marked with: it is not resumed, the mark stays, explained')
    .argument('<name>', 'VM name or id')
    .action(
      run(async (cmd, name: string) => {
        await withVmClaim(name, 'openem vm restore-abandon', async (platform, v) => {
          const mark = v.restoreIncomplete;
          if (!mark) throw badRequest(`VM ${v.name} is not marked restore incomplete`);
          if (mark.state === 'abandoned') return out(cmd, `${describeRestoreMark(v.name, mark)}\n`);
          const reason = `abandoned by operator at ${new Date().toISOString()} (openem vm restore-abandon)`;
          const next = { ...mark, state: 'abandoned' as const, reason };
          await platform.markRestoreIncomplete(v.id, next);
          out(cmd, `${describeRestoreMark(v.name, next)}\n`);
        });
      }),
    );

  vm.command('rm')
    .description('delete a VM and its disk images')
    .argument('<name>', 'VM name or id')
    .action(
      run(async (cmd, name: string) => {
        const registry = await openRegistry();
        const removed = await asLocalPlatform(await registry.platformOf(name)).removeVm(name);
        out(cmd, `removed VM ${removed.name} (${removed.id})\n`);
      }),
    );

  return vm;
}
