/**
 * File-level restore: a 64 GiB sparse disk holding 1 GiB of files (one 1 GiB file, a folder of 10,000 small
 * files), backed up once. Figures: mount time (open the point's ext4 straight from the repository), listing the
 * 10,000-entry folder as an EM FileSystemEntries body (the server's guestListingBody: on a fresh mount, first in the
 * process and once the code is compiled; again from the mount's kept listing; again rendered anew from the reader's
 * warm caches), and streaming the 1 GiB file out of the restore point, against `debugfs -R 'dump ...'` reading the
 * same file out of the live image in the same run.
 * Goals: mount < 1 s (issue #5), listing < 100 ms on a fresh mount and < 50 ms again, XML or JSON (issue #11 goal 3),
 * download >= 0.5x debugfs (issue #5).
 * Usage: node --import tsx bench/flr.ts     (never part of npm test)
 * With OPENEM_BENCH_CPU_PROFILE=FILE the first listing of the process (and only it) is sampled every 100 µs into
 * FILE, a .cpuprofile that Chrome's DevTools opens.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalPlatform } from '../src/platform/local/local-platform.js';
import { createVmFromDirectory, ROOT_PARTITION_OFFSET } from '../src/platform/local/create-vm-from-directory.js';
import { openRepository } from '../src/repository/open-repository.js';
import { countingMountContext } from './support/counting-mount-context.js';
import { fullBackupPoint, readPacksOnce } from './support/full-backup-point.js';
import { openRestorePointFilesystem } from '../src/services/guest-restore/restore-point-filesystem.js';
import { guestListingBody } from '../src/api/guest-fs-wire.js';
import { RenderedListings } from '../src/services/mounts/rendered-listings.js';
import { loadavg } from 'node:os';
import { imageWithOffset } from '../src/guestfs/ext4/e2fsprogs.js';
import { flrGuestTree as guestTree } from './support/bench-image.js';
import { reportResult } from './support/bench-result.js';
import { startCpuProfile } from './support/cpu-profile.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/**
 * CPU time of this thread (the event loop's) in ms, from Linux's schedstat (ns): process.cpuUsage also counts the
 * codec workers, and wall time on a loaded machine is mostly waiting for a core. NaN where there is no /proc.
 */
function mainThreadCpuMs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'openem-bench-flr-'));
  try {
    const src = join(work, 'src');
    await mkdir(src);
    await guestTree(src);
    const platform = await LocalPlatform.open(join(work, 'data'));
    const vm = await createVmFromDirectory(platform, { name: 'bench01', fromDir: src, size: 64 * GiB });
    const repository = await openRepository(join(work, 'data', 'repository'), { create: true });
    const manifest = await fullBackupPoint(repository, platform, vm);
    readPacksOnce(join(work, 'data', 'repository'));
    // The mount path only needs the repository from the context; the disks it opens are kept to count their work.
    const { ctx, disks } = countingMountContext(repository);

    let t = performance.now();
    const opened = await openRestorePointFilesystem(ctx, manifest.id);
    const mountMs = performance.now() - t;

    // A listing as the server sends it (guestListingBody: stat and list the folder, render it piece by piece as
    // the response streams, every piece turned into bytes), with the mount's kept listings as the server keeps them.
    const h = { base: 'https://h/api/m', root: 'https://h/api/m/%2F', download: true };
    const listings = new RenderedListings();
    type Fs = typeof opened.primary.fs;
    const listing = async (fs: Fs, format: 'xml' | 'json', mountId?: string) => {
      const kept = mountId ? { listings: listings.forMount(mountId), path: '/many' } : undefined;
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const main0 = mainThreadCpuMs();
      let bytes = 0;
      for (const piece of await guestListingBody(fs, h, '/many', { action: 'listAll', page: 1 }, format, kept)) bytes += piece.length;
      const cpu = process.cpuUsage(cpu0);
      return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, mainCpuMs: mainThreadCpuMs() - main0, bytes };
    };
    // The first listing of the process also compiles the code (a server that has listed before has it compiled).
    const profileTo = process.env.OPENEM_BENCH_CPU_PROFILE;
    const profiler = await startCpuProfile(profileTo);
    const xmlColdProcess = await listing(opened.primary.fs, 'xml', 'a');
    await profiler.stop();
    const xmlAgain = await listing(opened.primary.fs, 'xml', 'a');
    const xmlAnew = await listing(opened.primary.fs, 'xml');
    const jsonAnew = await listing(opened.primary.fs, 'json');
    await listing(opened.primary.fs, 'json', 'a');
    const jsonAgain = await listing(opened.primary.fs, 'json', 'a');
    /** What the fresh mount's disk did for the listing: blocks decoded (of them, for a piece only), pack reads, blocks kept. */
    let freshWork = '';
    const fresh = async (format: 'xml' | 'json', mountId: string) => {
      const other = await openRestorePointFilesystem(ctx, manifest.id);
      const disk = disks[disks.length - 1];
      const [loaded, sliced, reads] = [disk.blocksLoaded, disk.blocksSliced, disk.packReads];
      try {
        const r = await listing(other.primary.fs, format, mountId);
        freshWork = `${disk.blocksLoaded - loaded} blocks decoded (${disk.blocksSliced - sliced} for a piece only), ${disk.packReads - reads} pack reads, ${disk.cachedBlocks} blocks cached after`;
        return r;
      } finally {
        await other.close();
        listings.drop(mountId);
      }
    };
    const xmlFirst = await fresh('xml', 'b');
    const jsonFirst = await fresh('json', 'c');
    listings.drop('a');

    t = performance.now();
    let bytes = 0;
    for await (const c of await opened.primary.fs.createReadStream('/big.bin')) bytes += (c as Buffer).length;
    const oursS = (performance.now() - t) / 1000;
    await opened.close();

    const image = await platform.diskImagePath(vm.id, 'disk0');
    t = performance.now();
    const d = spawnSync('debugfs', ['-R', 'dump /big.bin /dev/null', imageWithOffset(image, ROOT_PARTITION_OFFSET)], { stdio: 'ignore' });
    const debugfsS = (performance.now() - t) / 1000;
    await repository.close();

    const mbps = (n: number, s: number) => (n / MiB / s).toFixed(0);
    console.log(`mount (64 GiB disk, 1 GiB of files):   ${mountMs.toFixed(1)} ms   (goal < 1000 ms)`);
    const listingRows: [string, { ms: number; cpuMs: number; mainCpuMs: number; bytes: number }, number][] = [
      ['XML, fresh mount, first listing of the process', xmlColdProcess, 100],
      ['XML, fresh mount', xmlFirst, 100],
      ['JSON, fresh mount', jsonFirst, 100],
      ['XML, again (kept listing)', xmlAgain, 50],
      ['JSON, again (kept listing)', jsonAgain, 50],
      ['XML, again, rendered anew', xmlAnew, 50],
      ['JSON, again, rendered anew', jsonAnew, 50],
    ];
    for (const [what, r, goal] of listingRows) {
      console.log(`list 10,000 entries, ${what} (${(r.bytes / MiB).toFixed(1)} MiB): ${r.ms.toFixed(1)} ms (${r.cpuMs.toFixed(1)} ms CPU, ${r.mainCpuMs.toFixed(1)} of it the event loop's)   (goal < ${goal} ms)`);
    }
    console.log(`a fresh mount's listing: ${freshWork}`);
    console.log(`download 1 GiB from the restore point: ${mbps(bytes, oursS)} MiB/s`);
    console.log(`debugfs dump from the live image:      ${mbps(GiB, debugfsS)} MiB/s${d.status === 0 ? '' : ` (debugfs exit ${d.status})`}`);
    console.log(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end`);
    reportResult('mount a 64 GiB disk', mountMs, '<', 1000, { unit: 'ms', baseline: 'absolute' });
    for (const [what, r, goal] of listingRows) {
      reportResult(`list 10,000 entries, ${what}`, r.ms, '<', goal, { unit: 'ms', baseline: `absolute; ${r.cpuMs.toFixed(0)} ms CPU` });
    }
    reportResult('download 1 GiB vs debugfs dump', debugfsS / oursS, '>=', 0.5, { baseline: 'debugfs dump of the live image' });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
