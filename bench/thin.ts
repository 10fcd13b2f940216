/**
 * Thin disks (issue #11 goal 1): the cost of every operation follows the data, not the virtual size. Two VMs hold
 * the same amount of data (default 1 GiB written as runs of 16 MiB spread evenly over the disk: half random, a
 * quarter text, a quarter zero blocks), one on a 2 GiB disk and one on a 64 GiB disk. Each gets a full backup, a
 * full restore into itself, and a QuickRollback after 1% of its data blocks changed; the 64 GiB figures are
 * printed as ratios to the 2 GiB ones (medians over `rounds`, the two sizes alternating), run in the same process,
 * each VM in a data directory of its own (no dedup between them). Memory: what the 64 GiB backups add to this
 * process's RSS (sampled every 10 ms, less the RSS before each backup). The bench process keeps the earlier rounds'
 * state, so its whole RSS says nothing of a backup; bench/backup-memory.ts measures an `openem backup` process.
 * Usage: node --import tsx bench/thin.ts [dataGiB] [bigGiB] [rounds]     (never part of npm test)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBaseContext } from '../src/app-context.js';
import { attachServices } from '../src/attach-services.js';
import { loadConfig } from '../src/config.js';
import { BLOCK_SIZE } from '../src/disks/block-source.js';
import { createLogger } from '../src/logger.js';
import { firstLocalPlatform } from '../src/platform/local/local-admin.js';
import { LocalImageSource } from '../src/platform/local/local-image-source.js';
import { allocatedBlockRanges } from '../src/repository/source-chunk-reader.js';
import type { AppContext } from '../src/services/app-services.js';
import { FULL_SCOPE } from '../src/services/auth/roles.js';
import type { Principal } from '../src/services/auth/logon-sessions.js';
import { backupVm } from '../src/services/backup/backup-vm.js';
import { findVmRestorePoint } from '../src/services/inventory/restore-point-records.js';
import { startVmRestore } from '../src/services/restore-vm/start-vm-restore.js';
import { reportResult } from './support/bench-result.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const dataGiB = Number(process.argv[2] ?? 1);
const bigGiB = Number(process.argv[3] ?? 64);
const rounds = Number(process.argv[4] ?? 3);
const RUN_BLOCKS = 16;
const runs = Math.round((dataGiB * GiB) / (RUN_BLOCKS * BLOCK_SIZE));

/** The disk's data blocks: `runs` runs of RUN_BLOCKS blocks, spread evenly over a disk of `diskBlocks`. */
function dataBlocks(diskBlocks: number): number[] {
  const stride = Math.floor(diskBlocks / runs);
  const out: number[] = [];
  for (let r = 0; r < runs; r++) for (let i = 0; i < RUN_BLOCKS; i++) out.push(r * stride + i);
  return out;
}

function blockContent(j: number): Buffer | undefined {
  const kind = j % 4;
  if (kind === 3) return undefined;
  if (kind <= 1) return randomBytes(BLOCK_SIZE);
  return Buffer.from(`block ${j} of a thin disk, compressible text `.repeat(BLOCK_SIZE / 32).slice(0, BLOCK_SIZE));
}

async function writeData(path: string, blocks: number[]): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    for (let j = 0; j < blocks.length; j++) {
      const b = blockContent(j);
      if (b) await fh.write(b, 0, BLOCK_SIZE, blocks[j] * BLOCK_SIZE);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Whether two images hold the same bytes, read only where either has data (the kernel's extent map through the
 * local platform's disks): `cmp` would read every hole of a 64 GiB image, and fill the page cache with zero pages
 * that push the data the next step reads out of it.
 */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([LocalImageSource.open(a), LocalImageSource.open(b)]);
  try {
    if (x.size !== y.size) return false;
    const covered = allocatedBlockRanges(x.size, [...(await x.allocatedExtents()), ...(await y.allocatedExtents())]);
    for (const [start, end] of covered) {
      for (let i = start; i < end; i += 16) {
        const offset = i * BLOCK_SIZE;
        const length = Math.min(end - i, 16) * BLOCK_SIZE;
        if (!(await x.read(offset, length)).equals(await y.read(offset, length))) return false;
      }
    }
    return true;
  } finally {
    await Promise.all([x.close(), y.close()]);
  }
}

async function assertSame(image: string, reference: string): Promise<void> {
  if (!(await sameBytes(image, reference))) throw new Error(`${image} differs from ${reference}`);
}

async function changeOnePercent(path: string, blocks: number[]): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    for (let j = 0; j < blocks.length; j += 100) await fh.write(randomBytes(BLOCK_SIZE), 0, BLOCK_SIZE, blocks[j] * BLOCK_SIZE);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Peak RSS while `fn` runs, sampled every 10 ms. */
async function peakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peak: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  try {
    const value = await fn();
    return { value, peak: Math.max(peak, process.memoryUsage.rss()) };
  } finally {
    clearInterval(timer);
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; s: number }> {
  const t = performance.now();
  const value = await fn();
  return { value, s: (performance.now() - t) / 1000 };
}

async function restore(ctx: AppContext, principal: Principal, pointId: string, quickRollback: boolean): Promise<string> {
  const point = (await findVmRestorePoint(ctx, pointId))!;
  const task = await startVmRestore(ctx, principal, point, { vmRestorePointId: pointId, powerOnAfterRestore: false, quickRollback, target: { kind: 'original' } });
  const deadline = Date.now() + 30 * 60_000;
  while (Date.now() < deadline) {
    const related = (await ctx.tasks.get(task.taskId))?.related;
    const id = related?.kind === 'restoreSession' ? related.sessionId : undefined;
    const s = id ? await ctx.restoreSessions.get(id) : undefined;
    if (s?.state === 'Stopped') {
      if (s.result !== 'Success') throw new Error(`restore failed: ${s.failureMessage}`);
      return s.log.map((l) => l.text).find((l) => l.startsWith('Disk disk0:')) ?? '';
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('restore did not finish within 30 minutes');
}

interface Figures {
  backupS: number;
  backupPeak: number;
  rssBefore: number;
  bytesRead: number;
  restoreS: number;
  quickS: number;
}

/** One VM with a `diskGiB` disk holding the data, in its own data directory: back up, restore, QuickRollback. */
async function measure(root: string, diskGiB: number, round: number): Promise<Figures> {
  const dataDir = join(root, `data-${diskGiB}-${round}`);
  const config = loadConfig({ env: { OPENEM_ADMIN_PASSWORD: 'bench-admin-1' }, flags: { dataDir } });
  const base = await createBaseContext(config, createLogger('warn'), { announce: () => {} });
  const ctx = await attachServices(base, { demo: false });
  try {
    const diskBlocks = (diskGiB * GiB) / BLOCK_SIZE;
    const local = firstLocalPlatform(ctx.platform);
    const staged = await local.stageNewVm({
      name: `thin-${diskGiB}g`, cpus: 2, memoryMiB: 2048, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere',
      hierarchyRootId: '', datastoreId: '', disks: [{ name: 'disk0', size: diskBlocks * BLOCK_SIZE }],
    });
    const blocks = dataBlocks(diskBlocks);
    await writeData(staged.diskImagePath('disk0'), blocks);
    const vm = await staged.commit();
    const image = await local.diskImagePath(vm.id, 'disk0');
    const admin = await ctx.store.db.selectFrom('accounts').selectAll().where('name', '=', 'admin').executeTakeFirstOrThrow();
    const principal = { session: { id: 'bench' }, account: { id: admin.id, name: admin.name, role: 'portal-admin', scope: FULL_SCOPE, createdAt: 0, passwordChangedAt: 0 } } as unknown as Principal;

    const reference = join(root, `reference-${diskGiB}.img`);
    execFileSync('cp', ['--sparse=always', image, reference]);
    const rssBefore = process.memoryUsage.rss();
    const backup = await timed(() => peakRss(() => backupVm(ctx, vm.name)));
    const point = backup.value.value.manifest.id;
    console.log(`  ${diskGiB} GiB disk: backup ${backup.s.toFixed(2)} s, read ${(backup.value.value.stats.bytesRead / MiB).toFixed(0)} MiB, peak RSS ${(backup.value.peak / MiB).toFixed(0)} MiB (${(rssBefore / MiB).toFixed(0)} MiB before)`);

    const full = await timed(() => restore(ctx, principal, point, false));
    await assertSame(image, reference);
    console.log(`  ${diskGiB} GiB disk: full restore ${full.s.toFixed(2)} s — ${full.value}; identical`);

    await changeOnePercent(image, blocks);
    const quick = await timed(() => restore(ctx, principal, point, true));
    await assertSame(image, reference);
    console.log(`  ${diskGiB} GiB disk: QuickRollback ${quick.s.toFixed(2)} s — ${quick.value}; identical`);
    return { backupS: backup.s, backupPeak: backup.value.peak, rssBefore, bytesRead: backup.value.value.stats.bytesRead, restoreS: full.s, quickS: quick.s };
  } finally {
    await ctx.shutdown();
    await base.store.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const root = await mkdtemp(join(tmpdir(), 'openem-bench-thin-'));
try {
  console.log(`${dataGiB} GiB of data on a 2 GiB and on a ${bigGiB} GiB thin disk, ${rounds} rounds, in ${root}`);
  const small: Figures[] = [];
  const big: Figures[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [size, into] of round % 2 ? ([[bigGiB, big], [2, small]] as const) : ([[2, small], [bigGiB, big]] as const)) {
      into.push(await measure(root, size, round));
      await rm(join(root, `data-${size}-${round}`), { recursive: true, force: true });
      await rm(join(root, `reference-${size}.img`), { force: true });
    }
  }
  const ratio = (f: (x: Figures) => number) => median(big.map(f)) / median(small.map(f));
  console.log(`\nsummary (medians of ${rounds}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  const baseline = 'the same data on a 2 GiB disk';
  reportResult(`thin ${bigGiB} GiB: backup time vs 2 GiB`, ratio((x) => x.backupS), '<=', 1.25, { baseline });
  reportResult(`thin ${bigGiB} GiB: full restore time vs 2 GiB`, ratio((x) => x.restoreS), '<=', 1.25, { baseline });
  reportResult(`thin ${bigGiB} GiB: QuickRollback time vs 2 GiB`, ratio((x) => x.quickS), '<=', 1.25, { baseline });
  reportResult(`thin ${bigGiB} GiB: backup bytes read vs 2 GiB`, ratio((x) => x.bytesRead), '<=', 1.25, { baseline });
  reportResult(`thin ${bigGiB} GiB: RSS a backup adds`, median(big.map((x) => x.backupPeak - x.rssBefore)) / MiB, '<=', 256, {
    unit: 'MiB',
    baseline: 'this process before the backup, sampled every 10 ms (bench/backup-memory: a whole backup process)',
  });
} finally {
  await rm(root, { recursive: true, force: true });
}
