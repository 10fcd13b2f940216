import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/**
 * A libvirt daemon of the test's own: a session libvirtd run as the unprivileged user `nobody` (group kvm, so
 * /dev/kvm is usable when present), with every XDG folder, socket and config in a private folder, reached by
 * root through its socket. No system service is touched. `stop` destroys the domains it runs and ends it.
 */
export interface PrivateLibvirt {
  uri: string;
  dir: string;
  /** The folder of the `openem` dir pool. */
  poolDir: string;
  /** virsh against this daemon (argv array); throws on a non-zero exit. */
  virsh(...args: string[]): string;
  stop(): Promise<void>;
}

const NOBODY = 65534;

function kvmGid(): number | undefined {
  const r = spawnSync('getent', ['group', 'kvm'], { encoding: 'utf8' });
  const gid = Number(r.stdout.split(':')[2]);
  return Number.isInteger(gid) ? gid : undefined;
}

export async function startPrivateLibvirt(): Promise<PrivateLibvirt> {
  // Short names: libvirt puts a guest agent channel's socket under the config folder, and a socket path has 107 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'lv-'));
  const folders = ['c/libvirt', 'run', 'data', 'cache', 'pool'].map((f) => join(dir, f));
  for (const f of folders) await mkdir(f, { recursive: true });
  await writeFile(join(dir, 'c/libvirt/qemu.conf'), 'security_driver = "none"\n');
  for (const f of [dir, ...folders, join(dir, 'c'), join(dir, 'c/libvirt/qemu.conf')]) await chown(f, NOBODY, NOBODY);
  const gid = kvmGid();
  const env = {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'c'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CACHE_HOME: join(dir, 'cache'),
  };
  const daemon: ChildProcess = spawn(
    'setpriv',
    ['--pdeathsig', 'KILL', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, gid === undefined ? '--clear-groups' : `--groups=${gid}`, '--', 'libvirtd', '--timeout', '0'],
    { env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  daemon.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<void>((r) => daemon.once('exit', () => r()));
  const socket = join(dir, 'run/libvirt/libvirt-sock');
  const uri = `qemu:///session?socket=${socket}`;
  const virsh = (...args: string[]): string => {
    const r = spawnSync('virsh', ['-q', '-c', uri, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`virsh ${args.join(' ')}: ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  const stop = async () => {
    if (daemon.exitCode === null) {
      try {
        for (const uuid of virsh('list', '--uuid').split('\n').filter(Boolean)) virsh('destroy', uuid.trim());
      } catch {
        // the daemon is gone or stuck: its qemu processes are found by their folder below
      }
      daemon.kill('SIGTERM');
      const timer = setTimeout(() => daemon.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 15_000;
    while (!(await stat(socket).then(() => true, () => false))) {
      if (daemon.exitCode !== null || Date.now() > deadline) throw new Error(`libvirtd did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const poolDir = join(dir, 'pool');
    const poolXml = join(dir, 'pool.xml');
    await writeFile(poolXml, `<pool type='dir'><name>openem</name><target><path>${poolDir}</path></target></pool>`);
    virsh('pool-define', poolXml);
    virsh('pool-start', 'openem');
    return { uri, dir, poolDir, virsh, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * One private daemon for a whole test file (its first connection probes QEMU for seconds; the tests share that),
 * started on first use and stopped when the file's tests end. Call at the top level of the file.
 */
export function useSharedLibvirt(): () => Promise<PrivateLibvirt> {
  let shared: Promise<PrivateLibvirt> | undefined;
  after(async () => {
    if (shared) await (await shared).stop();
  });
  return () => (shared ??= startPrivateLibvirt());
}

/** Leaves the daemon as it started: no domains, no checkpoints, an empty pool. */
export function removeEverything(libvirt: PrivateLibvirt): void {
  for (const uuid of libvirt.virsh('list', '--all', '--uuid').split('\n').map((l) => l.trim()).filter(Boolean)) {
    if (libvirt.virsh('domstate', uuid).trim() !== 'shut off') libvirt.virsh('destroy', uuid);
    libvirt.virsh('undefine', uuid, '--checkpoints-metadata');
  }
  libvirt.virsh('pool-refresh', 'openem');
  for (const line of libvirt.virsh('vol-list', 'openem').split('\n').map((l) => l.trim()).filter(Boolean)) {
    libvirt.virsh('vol-delete', '--pool', 'openem', line.split(/\s+/)[0]);
  }
}
