import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { createLogger, terminalDestination } from '../logger.js';
import { startupBanner } from './startup-banner.js';
import { demoLogons, KVM_DEMO_OPERATOR_SCOPE } from '../services/demo/demo-accounts.js';
import { demoNeedsPrivateLibvirt, startDemoLibvirt } from '../services/demo/demo-libvirt.js';
import { createBaseContext } from '../app-context.js';
import { startServer } from '../server.js';
import { VERSION } from '../version.js';
import { attachServices, type DemoChoice } from '../attach-services.js';
import { OpenemError } from '../errors.js';
import { resumeInterruptedRestores } from '../services/restore-vm/resume-interrupted-restores.js';
import { putBackInterruptedPermissionRestores } from '../services/guest-restore/permissions-journal.js';
import { API_AREAS } from '../api/areas.js';
import { findTool } from '../platform/local/external-tool.js';
import { ensurePrivateDir, PASSABLE_DIR_MODE, PRIVATE_DIR_MODE, tightenPrivateTree } from '../host/private-data-dir.js';
import { removePreviousRunLeftovers } from '../host/previous-run-leftovers.js';
import { chmod } from 'node:fs/promises';
import type { Logger } from 'pino';

export interface ServeFlags {
  dataDir?: string;
  libvirtUri?: string;
  datastoresDir?: string;
  listen?: string;
  httpsPort?: string;
  httpPort?: string;
  config?: string;
  logLevel?: string;
  demo?: boolean | string;
  flrGroup?: string;
}

/** `openem serve`: runs the whole server in this process until SIGTERM/SIGINT. */
export function registerServeCommand(program: Command) {
  program
    .command('serve')
    .description('start the Enterprise Manager-compatible REST API server (HTTPS 9398, HTTP 9399)')
    .option('--data-dir <dir>', 'data directory (OPENEM_DATA_DIR)')
    .option('--listen <address>', 'listen address (OPENEM_LISTEN)')
    .option('--https-port <port>', 'HTTPS port, 0 turns it off (OPENEM_HTTPS_PORT)')
    .option('--http-port <port>', 'HTTP port, 0 turns it off (OPENEM_HTTP_PORT)')
    .option('--config <file>', 'JSON config file (default <data-dir>/openem.json)')
    .option('--log-level <level>', 'log level (OPENEM_LOG_LEVEL)')
    .option('--flr-group <group>', 'host group (name or gid) allowed to read FLR folders; default: none (OPENEM_FLR_GROUP)')
    .option('--libvirt-uri <uri>', 'libvirt URI of a KVM host to add as a platform (OPENEM_LIBVIRT_URI)')
    .option('--datastores-dir <dir>', 'folder the local platform keeps its VMs in, e.g. one every node mounts (OPENEM_DATASTORES_DIR)')
    .option('--demo [kind]', 'on an empty data directory, create demo VMs and back them up; "--demo kvm": two KVM guests instead, on a private libvirt daemon in the data directory unless a libvirt URI is configured')
    .action(async (flags: ServeFlags) => {
      const config = loadConfig({
        configFile: flags.config,
        flags: { dataDir: flags.dataDir, listen: flags.listen, httpsPort: flags.httpsPort, httpPort: flags.httpPort, logLevel: flags.logLevel, flrGroup: flags.flrGroup, libvirtUri: flags.libvirtUri, datastoresDir: flags.datastoresDir },
      });
      await serve(config, { demo: demoChoice(flags.demo) });
    });
}

function demoChoice(flag: boolean | string | undefined): DemoChoice {
  if (flag === undefined || flag === false) return false;
  if (flag === true || flag === 'local') return true;
  if (flag === 'kvm') return 'kvm';
  throw new OpenemError('BAD_CONFIG', `--demo ${flag}: the demos are "--demo" (local VMs) and "--demo kvm" (KVM guests)`);
}

export async function serve(givenConfig: Config, options: { demo: DemoChoice; terminal?: boolean }): Promise<void> {
  // A person at a terminal reads lines; anything else (a pipe, a journal, a file) gets pino's JSON lines.
  const terminal = options.terminal ?? process.stdout.isTTY === true;
  const log = createLogger(givenConfig.logLevel, terminal ? terminalDestination() : undefined);
  await warnAboutMissingTools(log);
  await prepareDataDir(givenConfig, log, options.demo === 'kvm' && demoNeedsPrivateLibvirt(givenConfig));
  // The KVM demo's own libvirt daemon, when no libvirt is configured: it ends with the server, also when the start fails.
  const demoLibvirt = options.demo === 'kvm' ? await startDemoLibvirt(givenConfig) : undefined;
  const config = demoLibvirt?.config ?? givenConfig;
  let started: Awaited<ReturnType<typeof startApplication>>;
  try {
    started = await startApplication(config, options.demo, log);
  } catch (e) {
    await demoLibvirt?.stop().catch((err) => log.warn({ err }, 'stopping the demo libvirt daemon failed'));
    throw e;
  }
  const { base, ctx, server, logons } = started;
  if (terminal) process.stdout.write(startupBanner({ version: VERSION, urls: server.urls, dataDir: config.dataDir, demoLogons: logons }));
  else process.stdout.write(`openem ${VERSION} listening: ${Object.values(server.urls).join(' ')}  (data: ${config.dataDir})\n`);
  log.info({ urls: server.urls, dataDir: config.dataDir }, 'openem is listening');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new requests, finishing in-flight ones');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    try {
      await server.close();
      await ctx.shutdown();
      await base.store.close();
    } finally {
      await demoLibvirt?.stop().catch((err) => log.warn({ err }, 'stopping the demo libvirt daemon failed'));
      log.flush?.();
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** The store, the services (and the demo), the restores to resume and the listeners. */
async function startApplication(config: Config, demo: DemoChoice, log: Logger) {
  let generatedAdminPassword: string | undefined;
  const base = await createBaseContext(config, log, { onAdminCreated: (p) => (generatedAdminPassword = p) });
  const ctx = await attachServices(base, { demo });
  await resumeInterruptedRestores(ctx);
  const logons = demo ? await demoLogons(ctx, generatedAdminPassword, demo === 'kvm' ? KVM_DEMO_OPERATOR_SCOPE : undefined) : undefined;
  const server = await startServer(ctx, config, API_AREAS, VERSION);
  // A PermissionsOnly restore killed part-way: the descriptors it had replaced go back in the background, under the
  // VM's claim (taken here where it is free, so no request reaches that VM first); a busy VM is not waited for here.
  await putBackInterruptedPermissionRestores(ctx);
  return { base, ctx, server, logons };
}

/**
 * Before anything opens the data directory: what a killed predecessor left goes (dead FUSE mounts, work folders,
 * empty mount points; issue 9 §8), then every folder and file in it is made private (issue 9 §9); the data
 * directory itself 0711 when the KVM demo's daemon (run as nobody) must pass through it.
 */
async function prepareDataDir(config: Config, log: Logger, passable: boolean): Promise<void> {
  await ensurePrivateDir(config.dataDir);
  if (passable) await chmod(config.dataDir, PASSABLE_DIR_MODE);
  await removePreviousRunLeftovers({ dataDir: config.dataDir, flrRoot: config.flrRoot }, log);
  const tightened = await tightenPrivateTree(config.dataDir, passable ? PASSABLE_DIR_MODE : PRIVATE_DIR_MODE);
  if (tightened) log.warn({ dataDir: config.dataDir, tightened }, 'made folders 0700 and files 0600 in the data directory');
}

/**
 * e2fsprogs builds guest filesystems (mke2fs) and checks them (e2fsck); restored guest files are written through
 * fuse2fs (a FUSE mount, unmounted with fusermount, started through util-linux's setpriv so it dies with us).
 * The API and VM restores work without them, so a missing tool is said clearly at start, not fatal.
 */
async function warnAboutMissingTools(log: { warn(msg: string): void }): Promise<void> {
  const tools: [string, string][] = [['mke2fs', 'e2fsprogs'], ['e2fsck', 'e2fsprogs'], ['fuse2fs', 'fuse2fs'], ['fusermount', 'fuse'], ['setpriv', 'util-linux']];
  const missing: [string, string][] = [];
  for (const [tool, pkg] of tools) if (!(await findTool(tool))) missing.push([tool, pkg]);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
  const line = `openem: ${missing.map(([t]) => t).join(', ')} not found: creating VMs and restoring guest files need them (Debian/Ubuntu: apt-get install ${packages})`;
  log.warn(line);
  process.stderr.write(line + '\n');
}
