import { lstat, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict } from '../../errors.js';
import { isProcessAlive } from '../../host/process-alive.js';

/**
 * What a private libvirt daemon (private-libvirtd.ts) leaves when its server is killed: the daemon itself dies with
 * the server (its death signal), but its pid file and sockets stay in the run folder, and the QEMU processes of
 * running guests live on (libvirt daemonizes them). The next start removes the daemon's files and lets the new
 * daemon adopt those guests from their status files; `stop` and the sweep of run folders whose daemon folder is
 * gone kill them.
 */

/** The run folder's files of the daemon itself (pid files and sockets), not the guests' state beside them. */
const DAEMON_FILES = /^(libvirt(-admin)?-sock(-ro)?|libvirtd\.pid|virtlogd(-admin)?-sock|virtlogd\.pid)$/;

async function procText(pid: number, file: string): Promise<string | undefined> {
  return readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => undefined);
}

async function parentPid(pid: number): Promise<number | undefined> {
  const stat = await procText(pid, 'stat');
  // Field 4 follows the command name in parentheses, which may itself hold spaces and parentheses.
  const ppid = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : NaN;
  return Number.isInteger(ppid) ? ppid : undefined;
}

async function waitGone(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (isProcessAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/**
 * Before a daemon starts on `runDir`: a daemon still running there whose server is gone (an orphan, adopted by
 * init) is killed; one whose server lives belongs to another openem on the same folder: CONFLICT. Then the
 * daemon's stale pid files and sockets go, so readiness is never taken from a socket nobody listens on.
 */
export async function removeStaleDaemonFiles(runDir: string): Promise<void> {
  const folder = join(runDir, 'run', 'libvirt');
  const pid = Number((await readFile(join(folder, 'libvirtd.pid'), 'utf8').catch(() => '')).trim());
  if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) {
    const environ = (await procText(pid, 'environ')) ?? '';
    if (environ.split('\0').includes(`XDG_RUNTIME_DIR=${join(runDir, 'run')}`)) {
      const ppid = await parentPid(pid);
      if (ppid !== 1 && ppid !== undefined && isProcessAlive(ppid)) {
        throw conflict(`a libvirt daemon (pid ${pid}) of another running openem already serves ${runDir}`);
      }
      process.kill(pid, 'SIGKILL');
      await waitGone(pid);
    }
  }
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return;
  }
  for (const name of names) if (DAEMON_FILES.test(name)) await rm(join(folder, name), { force: true });
}

/** QEMU processes of guests run from `runDir` (their command line names its sockets), killed (SIGKILL). */
export async function killGuestsOf(runDir: string): Promise<number[]> {
  const folder = join(runDir, 'run', 'libvirt', 'qemu', 'run');
  let names: string[];
  try {
    names = (await readdir(folder)).filter((n) => n.endsWith('.pid') && n !== 'driver.pid');
  } catch {
    return [];
  }
  const killed: number[] = [];
  for (const name of names) {
    const pid = Number((await readFile(join(folder, name), 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 0 || !isProcessAlive(pid)) continue;
    const cmdline = (await procText(pid, 'cmdline')) ?? '';
    if (!/qemu-system/.test(cmdline.split('\0')[0]) || !cmdline.includes(`${runDir}/`)) continue;
    process.kill(pid, 'SIGKILL');
    killed.push(pid);
  }
  for (const pid of killed) await waitGone(pid);
  return killed;
}

/**
 * Run folders (in `base`, named as `pattern` says) whose daemon folder no longer exists (a killed test's temporary folder):
 * their guests are killed and the folder removed. A run folder without its config link is being made right now.
 */
export async function sweepOrphanedRunFolders(base: string, pattern: RegExp): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(base)).filter((n) => pattern.test(n));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const runDir = join(base, name);
    const target = await readlink(join(runDir, 'c')).catch(() => undefined);
    if (target === undefined) continue;
    if (await lstat(target).then(() => true, () => false)) continue;
    await removeStaleDaemonFiles(runDir).catch(() => undefined);
    await killGuestsOf(runDir);
    await rm(runDir, { recursive: true, force: true });
    removed.push(runDir);
  }
  return removed;
}
