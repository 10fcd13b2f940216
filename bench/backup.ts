/**
 * Backup throughput: a 4 GiB image (half random, a quarter compressible text, a quarter zeros), a full
 * backup, then an increment with 1% of the 1 MiB blocks changed. Baselines in the same process tree:
 * `cat image > /dev/null` (read speed) and, when `restic` is on PATH, restic doing the same two backups.
 * Usage: node --import tsx bench/backup.ts [sizeGiB]     (never part of npm test)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLOCK_SIZE } from '../src/disks/block-source.js';
import { ImageFileSource } from '../src/disks/image-file-source.js';
import { openRepository } from '../src/repository/open-repository.js';
import type { Repository, RestorePointManifest } from '../src/repository/repository.js';

const GiB = 1024 ** 3;
const sizeGiB = Number(process.argv[2] ?? 4);
const blocks = Math.round((sizeGiB * GiB) / BLOCK_SIZE);

function textPool(): Buffer {
  const words = ['restore', 'point', 'backup', 'job', 'vm', 'disk', 'block', 'the', 'and', 'enterprise', 'manager', 'session'];
  const seed = randomBytes(1 << 16);
  let s = '';
  for (let i = 0; s.length < 4 * BLOCK_SIZE; i++) s += `${words[seed[i % seed.length] % words.length]}${i % 11 === 0 ? '\n' : ' '}`;
  return Buffer.from(s);
}

/** Block i: 0,1 random; 2 text; 3 zero (a hole), repeating. */
async function generateImage(path: string): Promise<void> {
  const pool = textPool();
  const fh = await open(path, 'w');
  const batch = 16;
  for (let i = 0; i < blocks; i += batch) {
    const parts: Buffer[] = [];
    for (let j = i; j < Math.min(blocks, i + batch); j++) {
      const kind = j % 4;
      if (kind <= 1) parts.push(randomBytes(BLOCK_SIZE));
      else if (kind === 2) {
        const start = (j * 7919) % (pool.length - BLOCK_SIZE);
        const b = Buffer.from(pool.subarray(start, start + BLOCK_SIZE));
        b.write(`block ${j} `, 0); // unique, so text blocks do not dedup against each other
        parts.push(b);
      } else parts.push(Buffer.alloc(BLOCK_SIZE));
    }
    for (let k = 0; k < parts.length; k++) if ((i + k) % 4 !== 3) await fh.write(parts[k], 0, BLOCK_SIZE, (i + k) * BLOCK_SIZE);
  }
  await fh.truncate(blocks * BLOCK_SIZE);
  await fh.close();
}

async function changeOnePercent(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  const step = 100;
  for (let i = 0; i < blocks; i += step) await fh.write(randomBytes(BLOCK_SIZE), 0, BLOCK_SIZE, i * BLOCK_SIZE);
  await fh.sync();
  await fh.close();
}

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
  await generateImage(image);
  seconds(() => execFileSync('sh', ['-c', `cat '${image}' > /dev/null`]));
  const catTime = seconds(() => execFileSync('sh', ['-c', `cat '${image}' > /dev/null`]));
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

  await changeOnePercent(image);
  seconds(() => execFileSync('sh', ['-c', `cat '${image}' > /dev/null`]));
  const oursInc = await timed(() => ourBackup(repo, image, full));
  console.log(`openem 1% increment: ${oursInc.toFixed(2)} s (${rate(oursInc)})`);
  let resticInc = NaN;
  if (restic) {
    resticInc = seconds(() => runRestic('backup', '--quiet', image));
    console.log(`restic 1% increment: ${resticInc.toFixed(2)} s (${rate(resticInc)})`);
  }
  await repo.close();

  console.log('\nsummary');
  console.log(`  full:      openem ${oursFull.toFixed(2)} s = ${(oursFull / catTime).toFixed(2)}x cat time` + (restic ? `; restic ${resticFull.toFixed(2)} s; openem is ${(resticFull / oursFull).toFixed(2)}x restic's throughput (goal >= 2)` : ''));
  console.log(`  increment: openem ${oursInc.toFixed(2)} s = ${(oursInc / catTime).toFixed(2)}x cat time` + (restic ? `; restic ${resticInc.toFixed(2)} s; openem is ${(resticInc / oursInc).toFixed(2)}x faster (goal >= 2)` : ''));
} finally {
  await rm(dir, { recursive: true, force: true });
}
