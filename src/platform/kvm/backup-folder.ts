import { chmod, chown, lstat, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenemError } from '../../errors.js';

/** The user and group a domain's QEMU process runs as. */
export interface QemuIdentity {
  uid: number;
  gid: number;
}

/** The QEMU process last found for each domain UUID (lower case), asked first next time. */
export type QemuProcesses = Map<string, number>;

/** Whether /proc/`pid` is a QEMU started with `-uuid <want>` (libvirt starts a domain's QEMU so). */
async function isQemuOf(pid: string, want: string): Promise<boolean> {
  const argv = (await readFile(`/proc/${pid}/cmdline`).catch(() => Buffer.alloc(0))).toString('utf8').split('\0');
  const i = argv.indexOf('-uuid');
  return i >= 0 && argv[i + 1]?.toLowerCase() === want && /qemu/.test(argv[0] ?? '');
}

/**
 * The identity of the running QEMU process of domain `uuid` (libvirt starts it with `-uuid <uuid>`), read from
 * /proc: the backup folder is made for exactly that user. Undefined when no such process is visible here.
 * `known`: the process found for the domain before; when it still is the domain's QEMU, /proc is not searched
 * (one process's command line instead of every process's: 20-60 ms at load 14 for ~110 processes).
 */
export async function qemuIdentityOf(uuid: string, known?: QemuProcesses): Promise<QemuIdentity | undefined> {
  const want = uuid.toLowerCase();
  const identity = async (pid: string) => {
    const st = await stat(`/proc/${pid}`).catch(() => undefined);
    return st && { uid: st.uid, gid: st.gid };
  };
  const last = known?.get(want);
  if (last !== undefined && (await isQemuOf(String(last), want))) {
    const found = await identity(String(last));
    if (found) return found;
  }
  known?.delete(want);
  const pids = (await readdir('/proc')).filter((pid) => /^\d+$/.test(pid));
  // All command lines asked for at once: one after another, ~100 processes took 0.03-0.9 s on a busy host.
  const matches = await Promise.all(pids.map((pid) => isQemuOf(pid, want)));
  for (let k = 0; k < pids.length; k++) {
    if (!matches[k]) continue;
    const found = await identity(pids[k]);
    if (!found) continue;
    known?.set(want, Number(pids[k]));
    return found;
  }
  return undefined;
}

/**
 * A fresh folder QEMU (running as `qemu`) may create its socket and scratch file in and nobody else may write:
 * mode 0700 when QEMU runs as this process's user; else owned by this process, group QEMU's, mode 0730 (the
 * group creates and enters, cannot list; others have no bits).
 */
export async function makeBackupDir(qemu: QemuIdentity): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'openem-kvm-backup-'));
  try {
    await chmod(dir, 0o700);
    if (qemu.uid !== process.getuid?.()) {
      await chown(dir, process.getuid?.() ?? 0, qemu.gid);
      await chmod(dir, 0o730);
    }
    await assertFreshBackupDir(dir);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return dir;
}

export const BACKUP_SOCKET = 'nbd.sock';
export const BACKUP_SCRATCH = 'scratch.qcow2';

/** Refuses a backup folder where the socket or scratch file already exist (planted, or left by an earlier job). */
export async function assertFreshBackupDir(dir: string): Promise<void> {
  for (const name of [BACKUP_SOCKET, BACKUP_SCRATCH]) {
    if (await lstat(join(dir, name)).then(() => true, () => false)) {
      throw new OpenemError('UNAVAILABLE', `the backup folder ${dir} already holds ${name}: refusing to start a backup job there`);
    }
  }
}
