/**
 * File-level restore on a Windows guest (issue #12): bench/flr.ts's figures for an NTFS volume. A 64 GiB sparse disk
 * (MBR, one NTFS partition made by mkntfs and written through ntfs-3g) holding 1 GiB of files (one 1 GiB file, a
 * folder of 10,000 small files), backed up once. Figures: mount time (open the point's NTFS straight from the
 * repository with openem's reader), listing the 10,000-entry folder as an EM FileSystemEntries body (XML, fresh
 * mount), and streaming the 1 GiB file out of the restore point, against `ntfscat` reading the same file out of the
 * live image (a read-only loop device over its partition) in the same run.
 * Goals (issue #12): mount < 1 s, listing < 200 ms, download >= 0.5x ntfscat.
 * Usage: node --import tsx bench/flr-ntfs.ts     (never part of npm test; needs root for the loop device)
 * With OPENEM_BENCH_CPU_PROFILE=FILE the listing (and only it) is sampled every 100 µs into FILE, a .cpuprofile that
 * Chrome's DevTools opens (a profile of the whole process is mostly the build of the VM). The listing's line splits its
 * time into the reader's part (stat and list) and the render's (the entries to XML bytes).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalPlatform } from '../src/platform/local/local-platform.js';
import { createVmFromDirectory, ROOT_PARTITION_OFFSET } from '../src/platform/local/create-vm-from-directory.js';
import { openRepository } from '../src/repository/open-repository.js';
import { countingMountContext } from './support/counting-mount-context.js';
import { fullBackupPoint, readPacksOnce } from './support/full-backup-point.js';
import { openRestorePointFilesystem } from '../src/services/guest-restore/restore-point-filesystem.js';
import type { NtfsReader } from '../src/guestfs/ntfs/ntfs-reader.js';
import { fileSystemEntriesElement, windowsPathForm } from '../src/api/guest-fs-wire.js';
import { renderXmlChunks } from '../src/api/wire/render-xml.js';
import { flrGuestTree as guestTree } from './support/bench-image.js';
import { reportResult } from './support/bench-result.js';
import { startCpuProfile } from './support/cpu-profile.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const DISK = 64 * GiB;
const sbin = { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` };

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'openem-bench-flr-ntfs-'));
  try {
    const src = join(work, 'src');
    await mkdir(src);
    await guestTree(src);
    const platform = await LocalPlatform.open(join(work, 'data'));
    let t = performance.now();
    const vm = await createVmFromDirectory(platform, { name: 'exch01', fromDir: src, size: DISK, os: 'windows', platform: 'hyperv' });
    const buildS = (performance.now() - t) / 1000;
    const repository = await openRepository(join(work, 'data', 'repository'), { create: true });
    const manifest = await fullBackupPoint(repository, platform, vm);
    readPacksOnce(join(work, 'data', 'repository'));
    // The mount path only needs the repository from the context; the disks it opens are kept to count their work.
    const { ctx, disks } = countingMountContext(repository);

    t = performance.now();
    const opened = await openRestorePointFilesystem(ctx, manifest.id);
    const mountMs = performance.now() - t;
    if (opened.primary.kind !== 'ntfs') throw new Error(`the bench disk opened as ${opened.primary.kind}, not NTFS`);

    // A listing as the server sends it from a mount: stat and list the folder, render it piece by piece to bytes.
    const pointDisk = disks[disks.length - 1];
    const [loaded, reads] = [pointDisk.blocksLoaded, pointDisk.packReads];
    const h = { base: 'https://h/api/m/C:', root: 'https://h/api/m/C:/%2F', download: true, shownPath: windowsPathForm('C', '\\') };
    const profileTo = process.env.OPENEM_BENCH_CPU_PROFILE;
    const profiler = await startCpuProfile(profileTo);
    t = performance.now();
    const cpu0 = process.cpuUsage();
    const fs = opened.primary.fs as NtfsReader;
    const mft0 = fs.mftReads;
    const dir = (await fs.stat('/many'))!;
    const entries = await fs.list('/many');
    const readMs = performance.now() - t;
    const tree = fileSystemEntriesElement(h, dir, entries, { action: 'listAll', page: 1 });
    let listBytes = 0;
    for (const piece of renderXmlChunks(tree)) listBytes += Buffer.from(piece).length;
    const listMs = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    await profiler.stop();
    const listWork = `${fs.mftReads - mft0} $MFT reads, ${pointDisk.blocksLoaded - loaded} repository blocks decoded, ${pointDisk.packReads - reads} pack reads`;

    t = performance.now();
    let bytes = 0;
    for await (const c of await fs.createReadStream('/big.bin')) bytes += (c as Buffer).length;
    const oursS = (performance.now() - t) / 1000;
    if (bytes !== GiB) throw new Error(`the restore point gave ${bytes} bytes of /big.bin, not ${GiB}`);
    await opened.close();
    await repository.close();

    const image = await platform.diskImagePath(vm.id, 'disk0');
    const loop = spawnSync('losetup', ['--find', '--show', '--read-only', '--offset', String(ROOT_PARTITION_OFFSET), '--sizelimit', String(DISK - 2 * MiB), '--', image], { env: sbin, encoding: 'utf8' }).stdout.trim();
    if (!/^\/dev\/loop\d+$/.test(loop)) throw new Error('losetup gave no loop device (the ntfscat baseline needs root)');
    let ntfscatS: number;
    let status: number | null;
    try {
      t = performance.now();
      status = spawnSync('ntfscat', ['-f', loop, '/big.bin'], { env: sbin, stdio: ['ignore', 'ignore', 'pipe'] }).status;
      ntfscatS = (performance.now() - t) / 1000;
    } finally {
      spawnSync('losetup', ['-d', loop], { env: sbin });
    }

    const mbps = (n: number, s: number) => (n / MiB / s).toFixed(0);
    console.log(`build the Windows VM (mkntfs + ntfs-3g, 1 GiB + 10,000 files): ${buildS.toFixed(1)} s`);
    console.log(`mount (64 GiB NTFS disk, 1 GiB of files): ${mountMs.toFixed(1)} ms   (goal < 1000 ms)`);
    console.log(`list 10,000 entries, XML, fresh mount (${(listBytes / MiB).toFixed(1)} MiB): ${listMs.toFixed(1)} ms (${((cpu.user + cpu.system) / 1000).toFixed(1)} ms CPU; the reader's part ${readMs.toFixed(1)} ms, the render's ${(listMs - readMs).toFixed(1)} ms; ${listWork})   (goal < 200 ms)`);
    console.log(`download 1 GiB from the restore point: ${mbps(bytes, oursS)} MiB/s`);
    console.log(`ntfscat from the live image:           ${mbps(GiB, ntfscatS)} MiB/s${status === 0 ? '' : ` (ntfscat exit ${status})`}`);
    console.log(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end`);
    reportResult('NTFS: mount a 64 GiB disk', mountMs, '<', 1000, { unit: 'ms', baseline: 'absolute' });
    reportResult('NTFS: list 10,000 entries, XML, fresh mount', listMs, '<', 200, { unit: 'ms', baseline: 'absolute' });
    reportResult('NTFS: download 1 GiB vs ntfscat', ntfscatS / oursS, '>=', 0.5, { baseline: 'ntfscat of the live image' });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
