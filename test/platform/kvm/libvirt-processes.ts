import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Pids of the processes whose argv (and pid) pass `test`. */
async function processes(test: (argv: string[], pid: string) => Promise<boolean>): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const argv = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (await test(argv, name)) pids.push(Number(name));
  }
  return pids;
}

/** The libvirtd processes of a private daemon whose run folder is `runDir`. */
export const daemonsOf = (runDir: string) =>
  processes(async (argv, pid) => {
    if (!argv[0].endsWith('libvirtd')) return false;
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    return environ.split('\0').includes(`XDG_RUNTIME_DIR=${join(runDir, 'run')}`);
  });

/** The QEMU processes of guests run from `runDir` (their sockets are in it). */
export const guestsOf = (runDir: string) => processes(async (argv) => /qemu-system/.test(argv[0]) && argv.some((a) => a.includes(`${runDir}/`)));

/** The run folder a private daemon on folder `dir` uses (src/platform/kvm/private-libvirtd.ts). */
export function runFolderOf(dir: string): string {
  return `/run/openem-${createHash('sha256').update(dir).digest('hex').slice(0, 8)}`;
}

/** Polls `check` every 100 ms until it holds; fails after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
