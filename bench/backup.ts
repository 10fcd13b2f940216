/**
 * Backup throughput: a 4 GiB image (half random, a quarter compressible text, a quarter zeros), a full
 * backup, then an increment with 1% of the 1 MiB blocks changed. Baselines in the same process tree:
 * `cat image > /dev/null` (read speed) and, when `restic` is on PATH, restic doing the same two backups.
 * Goals (issue #11 goal 6): full backup >= 2x restic's throughput, 1% increment >= 5x.
 * Usage: node --import tsx bench/backup.ts [sizeGiB]     (never part of npm test; restic: apt-get install restic)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLOCK_SIZE } from '../src/disks/block-source.js';
import { reportResult } from './support/bench-result.js';
import { generateBenchImage, changeOnePercent } from './support/bench-image.js';
import { ImageFileSource } from '../src/disks/image-file-source.js';
import { openRepository } from '../src/repository/open-repository.js';
import type { Repository, RestorePointManifest } from '../src/repository/repository.js';

const GiB = 1024 ** 3;
const sizeGiB = Number(process.argv[2] ?? 4);
const blocks = Math.round((sizeGiB * GiB) / BLOCK_SIZE);


/** `cat image > /dev/null`, without a shell: stdout 'ignore' is /dev/null. */
const readAll = (file: string) => execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'inherit'] });

function seconds(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

async function ourBackup(repo: Repository, image: string, previous?: RestorePointManifest): Promise<RestorePointManifest> {
  const w = await repo.beginBackup('bench-vm');
  const src = await ImageFileSource.open(image);
  await w.addDisk('disk0', src, { previous: previous?.disks[0] });
  await src.close();
  const { manifest, stats } = await w.commit({
    id: randomUUID(), restorePointId: randomUUID(), jobId: 'bench', vmId: 'bench-vm', vmName: 'bench-vm',
    createdAt: new Date().toISOString(), pointType: previous ? 'Increment' : 'Full', parentId: previous?.id,
    vm: { id: 'bench-vm', name: 'bench-vm', cpus: 1, memoryMiB: 1, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere', hierarchyRootId: 'h', datastoreId: 'd', disks: [], createdAt: '' },
  });
  console.log(`  openem: ${stats.blocksNew} new blocks, ${stats.blocksZero} zero, ${(stats.bytesStored / GiB).toFixed(2)} GiB stored`);
  return manifest;
}

function hasRestic(): boolean {
  return spawnSync('restic', ['version'], { stdio: 'ignore' }).status === 0;
}

const rate = (s: number) => `${((blocks * BLOCK_SIZE) / GiB / s).toFixed(2)} GiB/s`;

const dir = await mkdtemp(join(tmpdir(), 'openem-bench-'));
try {
  const image = join(dir, 'disk.img');
  console.log(`generating a ${sizeGiB} GiB image (50% random, 25% text, 25% zeros) in ${dir} ...`);
  await generateBenchImage(image, blocks);
  seconds(() => readAll(image));
  const catTime = seconds(() => readAll(image));
  console.log(`baseline cat image > /dev/null: ${catTime.toFixed(2)} s (${rate(catTime)}, page cache warm)`);

  const repo = await openRepository(join(dir, 'openem-repo'), { create: true });
  let full!: RestorePointManifest;
  const oursFull = await timed(async () => (full = await ourBackup(repo, image)));
  console.log(`openem full backup: ${oursFull.toFixed(2)} s (${rate(oursFull)})`);

  const restic = hasRestic();
  const env = { ...process.env, RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: join(dir, 'restic-repo'), RESTIC_CACHE_DIR: join(dir, 'restic-cache') };
  const runRestic = (...args: string[]) => execFileSync('restic', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  let resticFull = NaN;
  if (restic) {
    runRestic('init');
    resticFull = seconds(() => runRestic('backup', '--quiet', image));
    console.log(`restic full backup: ${resticFull.toFixed(2)} s (${rate(resticFull)})`);
  } else console.log('restic is not on PATH: no restic comparison (apt-get install restic)');

  await changeOnePercent(image, blocks);
  seconds(() => readAll(image));
  const oursInc = await timed(() => ourBackup(repo, image, full));
  console.log(`openem 1% increment: ${oursInc.toFixed(2)} s (${rate(oursInc)})`);
  let resticInc = NaN;
  if (restic) {
    resticInc = seconds(() => runRestic('backup', '--quiet', image));
    console.log(`restic 1% increment: ${resticInc.toFixed(2)} s (${rate(resticInc)})`);
  }
  await repo.close();

  console.log(`\nsummary (load ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end)`);
  console.log(`  full:      openem ${oursFull.toFixed(2)} s = ${(oursFull / catTime).toFixed(2)}x cat time` + (restic ? `; restic ${resticFull.toFixed(2)} s` : ''));
  console.log(`  increment: openem ${oursInc.toFixed(2)} s = ${(oursInc / catTime).toFixed(2)}x cat time` + (restic ? `; restic ${resticInc.toFixed(2)} s` : ''));
  const vsRestic = restic ? 'restic, same image' : 'restic not installed';
  reportResult('full backup throughput vs restic', resticFull / oursFull, '>=', 2, { baseline: vsRestic });
  // Issue #11 goal 6: full >= 2x restic, a 1%-changed increment >= 5x.
  reportResult('1% increment speed vs restic', resticInc / oursInc, '>=', 5, { baseline: vsRestic });
} finally {
  await rm(dir, { recursive: true, force: true });
}
