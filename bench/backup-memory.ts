/**
 * Backup memory (issue #11 goal 1: peak memory of a backup <= 256 MiB whatever the disk size), measured as a user
 * meets it: the peak resident memory (VmHWM, the kernel's high-water mark, read from /proc every 10 ms while it
 * runs) of the `openem backup` process, for a VM with a 2 GiB and one with a 64 GiB thin disk holding the same
 * 1 GiB of files (made with `openem vm create --from-dir`). Baseline: the same command's peak on the 2 GiB disk.
 * Usage: node --import tsx bench/backup-memory.ts [diskGiB=64]     (after `npm run build`; never part of npm test)
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { reportResult } from './support/bench-result.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const MAIN = resolve('dist/src/main.js');
const bigGiB = Number(process.argv[2] ?? 64);
const env = (dataDir: string) => ({ ...process.env, OPENEM_DATA_DIR: dataDir, OPENEM_ADMIN_PASSWORD: 'bench-admin-1', OPENEM_LOG_LEVEL: 'warn' });

/** 1 GiB of files: half random, half compressible text, in 64 MiB files. */
async function guestTree(dir: string): Promise<void> {
  for (let f = 0; f < 16; f++) {
    const fh = await open(join(dir, `file-${f}.bin`), 'w');
    for (let off = 0; off < 64 * MiB; off += 8 * MiB) await fh.write(f % 2 ? randomBytes(8 * MiB) : Buffer.from(`file ${f} at ${off}, compressible text `.repeat((8 * MiB) / 16).slice(0, 8 * MiB)), 0, 8 * MiB, off);
    await fh.close();
  }
}

/** Runs `openem backup` and returns its peak resident memory in MiB (its VmHWM, last read before it exited). */
async function backupPeak(dataDir: string, vm: string): Promise<{ peak: number; s: number }> {
  const t = performance.now();
  const child = spawn(process.execPath, [MAIN, 'backup', vm], { env: env(dataDir), stdio: ['ignore', 'ignore', 'inherit'] });
  let peak = 0;
  const sample = async () => {
    try {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      peak = Math.max(peak, Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024);
    } catch {
      // Exited between two samples.
    }
  };
  const timer = setInterval(() => void sample(), 10);
  const code = await new Promise<number | null>((ok) => child.once('exit', ok));
  clearInterval(timer);
  if (code !== 0) throw new Error(`openem backup ${vm} exited with ${code}`);
  return { peak, s: (performance.now() - t) / 1000 };
}

const work = await mkdtemp(join(tmpdir(), 'openem-bench-backup-memory-'));
try {
  const src = join(work, 'src');
  await mkdir(src);
  await guestTree(src);
  const figures: Record<number, { peak: number; s: number }> = {};
  for (const size of [2, bigGiB]) {
    const dataDir = join(work, `data-${size}`);
    execFileSync(process.execPath, [MAIN, 'vm', 'create', `bm${size}`, '--from-dir', src, '--size', `${size}G`], { env: env(dataDir), stdio: ['ignore', 'ignore', 'inherit'] });
    figures[size] = await backupPeak(dataDir, `bm${size}`);
    console.log(`openem backup, 1 GiB of files on a ${size} GiB disk: ${figures[size].s.toFixed(1)} s, peak RSS ${figures[size].peak.toFixed(0)} MiB`);
    await rm(dataDir, { recursive: true, force: true });
  }
  console.log(`\nsummary (load ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end)`);
  reportResult(`openem backup peak RSS, ${bigGiB} GiB thin disk`, figures[bigGiB].peak, '<=', 256, { unit: 'MiB', baseline: `absolute (VmHWM); ${figures[2].peak.toFixed(0)} MiB on the 2 GiB disk` });
  reportResult('openem backup peak RSS, 2 GiB disk', figures[2].peak, '<=', 256, { unit: 'MiB', baseline: 'absolute (VmHWM)' });
} finally {
  await rm(work, { recursive: true, force: true });
}
