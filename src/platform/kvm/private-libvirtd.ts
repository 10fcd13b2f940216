import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chown, lstat, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { OpenemError } from '../../errors.js';
import { spawnHelper, type HelperProcess } from '../../host/helper-process.js';
import { killGuestsOf, removeStaleDaemonFiles, sweepOrphanedRunFolders } from './private-libvirtd-leftovers.js';
import { Virsh } from './virsh.js';

/**
 * A libvirt daemon of openem's own (issue #13): a session libvirtd run as the unprivileged user `nobody` (group
 * kvm, so /dev/kvm is usable when present), with every XDG folder, socket and config of its own, reached by root
 * through its socket. No system service is touched. Used by `serve --demo kvm`, the tests and bench/kvm.
 *
 * Its config, data, cache and the `openem` storage pool live in its folder (kept across starts). Sockets and
 * runtime state live in a short run folder, `/run/openem-<hash of the folder>`, whose `c` link is the daemon's
 * config home: libvirt puts QEMU's monitor and guest channel sockets under the config home, and a socket path has
 * at most 107 bytes, which a folder inside a long data directory would exceed. The longest, a guest agent channel,
 * is then `/run/openem-XXXXXXXX/c/libvirt/qemu/channel/target/domain-<id>-<name, 20 at most>/org.qemu.guest_agent.0`:
 * 102 bytes and the domain id's digits.
 */
export interface PrivateLibvirtd {
  uri: string;
  /** The daemon's folder (its config, data, cache and pool). */
  dir: string;
  /** The folder of the `openem` dir pool. */
  poolDir: string;
  /** The short run folder: the daemon's sockets and runtime state; removed by `stop`. */
  runDir: string;
  /** A short folder the daemon's guests may bind sockets in (guest agent channels). */
  channelDir: string;
  /** virsh against this daemon (argv array); throws on a non-zero exit. */
  virsh(...args: string[]): string;
  /** Destroys the domains it runs, ends the daemon and removes its run folder (a temporary daemon folder too). */
  stop(): Promise<void>;
}

export interface PrivateLibvirtdOptions {
  /** The daemon's folder, made if missing and kept by `stop`; default a new temporary folder, removed by `stop`. */
  dir?: string;
}

/** The storage pool a private daemon offers for new volumes. */
export const PRIVATE_POOL = 'openem';
const NOBODY = 65534;
/** Run folders are `<base>/openem-<8 hex digits>`: short enough for every socket libvirt makes in them. */
const RUN_FOLDER = /^openem-[0-9a-f]{8}$/;
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
// stdio_handler "file": QEMU's log goes to a file, so no virtlogd is started (it would outlive the daemon by minutes).
const QEMU_CONF = 'security_driver = "none"\nstdio_handler = "file"\n';

function kvmGid(): number | undefined {
  const r = spawnSync('getent', ['group', 'kvm'], { encoding: 'utf8' });
  const gid = Number(r.stdout?.split(':')[2]);
  return Number.isInteger(gid) ? gid : undefined;
}

/** Where run folders go: /run when it is there (root), else the temporary folder. */
async function runBase(): Promise<string> {
  return (await stat('/run').then((s) => s.isDirectory(), () => false)) ? '/run' : tmpdir();
}

/** Every folder above `dir` must let `nobody` (or group kvm) pass, or the daemon cannot reach its own folder. */
async function assertReachableByNobody(dir: string, gid: number | undefined): Promise<void> {
  for (let p = dirname(dir); ; p = dirname(p)) {
    const s = await stat(p);
    const passes = s.uid === NOBODY ? s.mode & 0o100 : gid !== undefined && s.gid === gid ? s.mode & 0o010 : s.mode & 0o001;
    if (!passes) {
      throw new OpenemError('UNAVAILABLE', `the private libvirt daemon runs as nobody and cannot enter ${p} (mode ${(s.mode & 0o777).toString(8)}): let others pass (chmod o+x) or choose a data directory elsewhere`);
    }
    if (p === dirname(p)) return;
  }
}

async function prepareFolders(dir: string, runDir: string): Promise<void> {
  const own = [dir, join(dir, 'config'), join(dir, 'config/libvirt'), join(dir, 'data'), join(dir, 'cache'), join(dir, 'pool')];
  for (const f of own) await mkdir(f, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'config/libvirt/qemu.conf'), QEMU_CONF, { mode: 0o600 });
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  for (const f of [join(runDir, 'run'), join(runDir, 'ch')]) await mkdir(f, { recursive: true, mode: 0o700 });
  if (!(await lstat(join(runDir, 'c')).then(() => true, () => false))) await symlink(join(dir, 'config'), join(runDir, 'c'));
  for (const f of [...own, join(dir, 'config/libvirt/qemu.conf'), runDir, join(runDir, 'run'), join(runDir, 'ch')]) await chown(f, NOBODY, NOBODY);
}

/**
 * Starts the daemon on `options.dir` and waits until it answers, with the `openem` pool defined and active. What a
 * killed earlier run left is cleaned first (private-libvirtd-leftovers.ts); a daemon of a running openem on the
 * same folder is CONFLICT. Needs root (it runs libvirtd as nobody).
 */
export async function startPrivateLibvirtd(options: PrivateLibvirtdOptions = {}): Promise<PrivateLibvirtd> {
  if (process.getuid?.() !== 0) throw new OpenemError('UNAVAILABLE', 'a private libvirt daemon needs root: openem runs libvirtd as the user nobody');
  const temporary = options.dir === undefined;
  const dir = options.dir !== undefined ? resolve(options.dir) : await mkdtemp(join(tmpdir(), 'openem-libvirt-'));
  const gid = kvmGid();
  const base = await runBase();
  const runDir = join(base, `openem-${createHash('sha256').update(dir).digest('hex').slice(0, 8)}`);
  await sweepOrphanedRunFolders(base, RUN_FOLDER);
  await assertReachableByNobody(dir, gid);
  await removeStaleDaemonFiles(runDir);
  await prepareFolders(dir, runDir);
  const socket = join(runDir, 'run/libvirt/libvirt-sock');
  const uri = `qemu:///session?socket=${socket}`;
  const env = {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: dir,
    XDG_CONFIG_HOME: join(runDir, 'c'),
    XDG_RUNTIME_DIR: join(runDir, 'run'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CACHE_HOME: join(dir, 'cache'),
  };
  // The outer setpriv (spawnHelper) binds the daemon to this process; the uid change clears that death signal,
  // so the inner setpriv sets it again after changing the ids.
  const groups = gid === undefined ? '--clear-groups' : `--groups=${gid}`;
  const daemon = await spawnHelper('setpriv', ['--pdeathsig', 'KILL', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, groups, '--', 'libvirtd', '--timeout', '0'], {
    env,
    cwd: dir,
    debianPackage: 'util-linux',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  daemon.child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)));
  const virsh = new Virsh(uri);
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopDaemon(daemon, virsh, runDir, temporary ? dir : undefined));
  try {
    await waitUntilAnswering(daemon, virsh, socket, () => stderr);
    await ensurePool(virsh, join(dir, 'pool'));
  } catch (e) {
    await stop();
    throw e;
  }
  return { uri, dir, poolDir: join(dir, 'pool'), runDir, channelDir: join(runDir, 'ch'), virsh: (...args) => virshSync(uri, args), stop };
}

async function waitUntilAnswering(daemon: HelperProcess, virsh: Virsh, socket: string, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) throw new OpenemError('UNAVAILABLE', `libvirtd exited at start: ${stderr().trim().slice(-1000)}`);
    if (await stat(socket).then(() => true, () => false)) {
      if (await virsh.run(['uri'], { timeoutMs: 10_000 }).then(() => true, () => false)) return;
    }
    if (Date.now() > deadline) throw new OpenemError('UNAVAILABLE', `libvirtd did not answer within ${START_TIMEOUT_MS / 1000} s: ${stderr().trim().slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The `openem` dir pool on `poolDir`: defined on the first start (libvirt keeps it in the config), started on each. */
async function ensurePool(virsh: Virsh, poolDir: string): Promise<void> {
  if (!(await virsh.lines(['pool-list', '--all', '--name'])).includes(PRIVATE_POOL)) {
    await virsh.withXmlFile('pool-define', `<pool type='dir'><name>${PRIVATE_POOL}</name><target><path>${poolDir}</path></target></pool>`);
  }
  if (!(await virsh.lines(['pool-list', '--name'])).includes(PRIVATE_POOL)) await virsh.run(['pool-start', PRIVATE_POOL]);
}

async function stopDaemon(daemon: HelperProcess, virsh: Virsh, runDir: string, temporaryDir: string | undefined): Promise<void> {
  if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
    try {
      for (const uuid of await virsh.lines(['list', '--uuid'])) await virsh.run(['destroy', uuid]);
    } catch {
      // the daemon is gone or stuck: its guests are found by their run folder below
    }
    await daemon.stop('SIGTERM', STOP_GRACE_MS);
  }
  await killGuestsOf(runDir);
  await rm(runDir, { recursive: true, force: true });
  if (temporaryDir) await rm(temporaryDir, { recursive: true, force: true });
}

/** For tests and benches: one virsh call, synchronous. */
function virshSync(uri: string, args: string[]): string {
  const r = spawnSync('virsh', ['-q', '-c', uri, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`virsh ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
}
