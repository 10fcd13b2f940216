/**
 * The kvm platform's CBT (issue #13): a VM with a 4 GiB qcow2 disk (half random, a quarter text, a quarter holes)
 * run by a private libvirt daemon; a full live backup, then the guest changes 1% of the blocks (every 100th).
 *  1. The 1% increment read through changed-block tracking (libvirt's pull backup, the dirty-bitmap context),
 *     against the local platform's increment of the same image as a raw file with the same change, which hashes
 *     every allocated block. Goal: >= 10x faster.
 *  2. QuickRollback of that 1% to the full point from CBT (VM off: plan from the bitmap and the manifests, fetch,
 *     write through qemu-nbd), against `cat` reading the qcow2 image (page cache warm). Goal: <= 0.2x the time.
 *     The rollback is the service's own per-disk path (quick-rollback-disk-plan.ts, then applyDiskPlan through the
 *     writer it opened early) on a repository opened as the server opens it, with the state store's catalog.
 * Each warm figure is the median of three rounds (the increment repeated from the same previous point; the rollback
 * repeated after the same 1% is changed again through qemu-nbd; three `cat`s), each round printed with its breakdown.
 * Both figures are also measured cold (rows labelled so): the image's pages dropped from the page cache (per file,
 * `dd iflag=nocache count=0`, checked with util-linux's `fincore`) before the baseline and before openem's run.
 * The cold increments repeat the same increment (from the same previous point: its blocks are stored already, on
 * both sides); the cold rollback rolls back the same 1% again, written over the disk once more through qemu-nbd.
 * Skips with one line when libvirt, QEMU or qemu-nbd is missing; runs under TCG when /dev/kvm is not usable.
 * Usage: node --import tsx bench/kvm.ts [sizeGiB]     (never part of npm test; needs root for the private daemon)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access, chown, constants, mkdtemp, open, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLOCK_SIZE, type BlockSource } from '../src/disks/block-source.js';
import { ImageFileSource } from '../src/disks/image-file-source.js';
import { KvmPlatform } from '../src/platform/kvm/kvm-platform.js';
import { openRepository } from '../src/repository/open-repository.js';
import type { Repository, RestorePointManifest } from '../src/repository/repository.js';
import { applyDiskPlan } from '../src/services/restore-vm/apply-disk-plan.js';
import { EarlyDiskWriters } from '../src/services/restore-vm/early-disk-writers.js';
import { quickRollbackDiskPlan } from '../src/services/restore-vm/quick-rollback-disk-plan.js';
import type { RestoreRun } from '../src/services/restore-vm/restore-run.js';
import { RestoreProgress } from '../src/services/restore-vm/restore-progress.js';
import { DEFAULT_HOLD_BYTES } from '../src/services/restore-vm/rollback-prefetch.js';
import { systemClock } from '../src/context.js';
import { openStore } from '../src/state/open-store.js';
import { StateRepositoryCatalog } from '../src/tasks/repository-catalog.js';
import { startPrivateLibvirtd as startPrivateLibvirt } from '../src/platform/kvm/private-libvirtd.js';
import { generateBenchImage } from './support/bench-image.js';
import { reportResult } from './support/bench-result.js';
import { readPacksOnce } from './support/full-backup-point.js';
import { startCpuProfile } from './support/cpu-profile.js';

const GiB = 1024 ** 3;
const sizeGiB = Number(process.argv[2] ?? 4);
const blocks = Math.round((sizeGiB * GiB) / BLOCK_SIZE);
const changed = Array.from({ length: Math.ceil(blocks / 100) }, (_, i) => i * 100);

const missing = ['virsh', 'libvirtd', 'qemu-system-x86_64', 'qemu-img', 'qemu-nbd'].filter((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0);
if (missing.length > 0 || process.getuid?.() !== 0) {
  console.log(`skipped: bench/kvm needs libvirt and QEMU (${missing.length > 0 ? `missing: ${missing.join(', ')}; apt-get install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils` : 'run it as root: it starts a private libvirt daemon as nobody'})`);
  process.exit(0);
}
const kvm = await access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false);
if (!kvm) console.log('/dev/kvm is not usable here: the guest runs under TCG (the disk I/O measured is QEMU\'s either way)');

/**
 * Warm rounds of each figure; the summary compares medians (one run on a shared 2-core machine is noise).
 * OPENEM_BENCH_KVM_ROUNDS asks for more (steadier medians, a longer run).
 */
const ROUNDS = Math.max(1, Math.floor(Number(process.env.OPENEM_BENCH_KVM_ROUNDS ?? 3)) || 3);
const median = (runs: { s: number }[]) => {
  const sorted = runs.map((r) => r.s).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function timed<T>(fn: () => Promise<T>): Promise<{ s: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { s: (performance.now() - t) / 1000, value };
}

/** Milliseconds each step of a backup took: opening the disk, reading it into the repository, closing it, the manifest. */
interface BackupSteps {
  open: number;
  /** Of `read`: until the changes since the previous checkpoint were known (a live disk's backup job begins then). */
  changes: number;
  read: number;
  close: number;
  commit: number;
}

/** What the reads of one backup did: NBD (or file) requests, bytes, most at once, and the time any was running. */
interface ReadTrace {
  requests: number;
  bytes: number;
  inFlight: number;
  maxInFlight: number;
  busyMs: number;
  busySince: number;
}

const newTrace = (): ReadTrace => ({ requests: 0, bytes: 0, inFlight: 0, maxInFlight: 0, busyMs: 0, busySince: 0 });

/** Counts and times the source's reads into `trace` (the same calls the backup makes, wrapped). */
function tracingReads(source: BlockSource, trace: ReadTrace): BlockSource {
  const wrap = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, bytes: (...a: A) => number) => async (...a: A): Promise<R> => {
    trace.requests++;
    trace.bytes += bytes(...a);
    if (trace.inFlight++ === 0) trace.busySince = performance.now();
    trace.maxInFlight = Math.max(trace.maxInFlight, trace.inFlight);
    try {
      return await fn(...a);
    } finally {
      if (--trace.inFlight === 0) trace.busyMs += performance.now() - trace.busySince;
    }
  };
  const s = source as { read: BlockSource['read']; readInto?: BlockSource['readInto'] };
  s.read = wrap(source.read.bind(source), (_o: number, n: number) => n);
  if (source.readInto) s.readInto = wrap(source.readInto.bind(source), (_o: number, t: Uint8Array) => t.length);
  return source;
}

const describeTrace = (t: ReadTrace) =>
  `${t.requests} reads of ${(t.bytes / 2 ** 20).toFixed(1)} MiB, at most ${t.maxInFlight} at once, some read running for ${t.busyMs.toFixed(0)} ms`;

/** Resident bytes of `file` in the page cache, as util-linux's fincore counts them. */
function resident(file: string): number {
  return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).trim());
}

/** Drops `file`'s clean pages from the page cache (this file only) and prints what fincore counts after. */
function dropFromPageCache(file: string, label: string): void {
  const before = resident(file);
  execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
  const after = resident(file);
  console.log(`  page cache of ${label}: ${(before / 2 ** 20).toFixed(0)} MiB resident before the drop, ${(after / 2 ** 20).toFixed(1)} MiB after (fincore)`);
}

/** Times the source's answer to the changes since a checkpoint into `steps.changes`. */
function timingChanges(source: BlockSource, steps: BackupSteps): BlockSource {
  const tracking = source.changeTracking;
  if (!tracking) return source;
  const changedBlocksSince = async (since: string) => {
    const t = performance.now();
    try {
      return await tracking.changedBlocksSince(since);
    } finally {
      steps.changes = performance.now() - t;
    }
  };
  (source as { changeTracking?: typeof tracking }).changeTracking = { ...tracking, changedBlocksSince };
  return source;
}

async function backUp(repo: Repository, vmId: string, openSource: () => Promise<BlockSource>, previous?: RestorePointManifest, steps?: BackupSteps, trace?: ReadTrace) {
  let t = performance.now();
  const lap = (step: Exclude<keyof BackupSteps, 'changes'>) => {
    if (steps) steps[step] = performance.now() - t;
    t = performance.now();
  };
  const opened = steps ? timingChanges(await openSource(), steps) : await openSource();
  const source = trace ? tracingReads(opened, trace) : opened;
  lap('open');
  const w = await repo.beginBackup(vmId);
  try {
    await w.addDisk('disk0', source, { previous: previous?.disks[0] });
    lap('read');
  } finally {
    await source.close();
    lap('close');
  }
  const committed = await w.commit({
    id: randomUUID(), restorePointId: randomUUID(), jobId: 'bench', vmId, vmName: vmId,
    createdAt: new Date(Date.now() + (previous ? 1000 : 0)).toISOString(), pointType: previous ? 'Increment' : 'Full', parentId: previous?.id,
    vm: { id: vmId, name: vmId, cpus: 1, memoryMiB: 64, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere', hierarchyRootId: 'h', datastoreId: 'd', disks: [], createdAt: '' },
  });
  lap('commit');
  return committed;
}

const loadNow = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const loadStart = loadNow();
const dir = await mkdtemp(join(tmpdir(), 'openem-bench-kvm-'));
const lv = await startPrivateLibvirt();
try {
  const raw = join(dir, 'disk.raw');
  console.log(`generating a ${sizeGiB} GiB image (50% random, 25% text, 25% holes) ...`);
  await generateBenchImage(raw, blocks);

  const platform = await KvmPlatform.open({ uri: lv.uri, shutdownTimeoutMs: 1000 });
  const staged = await platform.stageNewVm({
    name: 'benchkvm', cpus: 1, memoryMiB: 64, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere', hierarchyRootId: '', datastoreId: '',
    disks: [{ name: 'disk0', size: blocks * BLOCK_SIZE }],
  });
  const volume = lv.virsh('vol-list', '--pool', 'openem').split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[0]?.startsWith(staged.config.id))![1];
  execFileSync('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'qcow2', raw, volume], { stdio: ['ignore', 'ignore', 'inherit'] });
  await chown(volume, 65534, 65534);
  const vm = await staged.commit();
  await platform.setPowerState(vm.id, 'PoweredOn');

  // As the server opens it (attach-services.ts): which manifests are current is the state store's word.
  const state = await openStore({ dataDir: join(dir, 'state') });
  const repo = await openRepository(join(dir, 'repo-kvm'), { create: true, catalog: (key) => new StateRepositoryCatalog({ store: state, clock: systemClock }, key) });
  const full = await timed(async () => backUp(repo, vm.id, () => platform.openDisk(vm.id, 'disk0', { changeTracking: true })));
  console.log(`kvm full live backup: ${full.s.toFixed(2)} s, ${(full.value.stats.bytesRead / GiB).toFixed(2)} GiB read`);

  // The guest changes every 100th block (QEMU's own I/O on the guest's disk device, as a guest write is).
  for (const b of changed) lv.virsh('qemu-monitor-command', vm.id, '--hmp', `qemu-io -d /machine/peripheral/ua-disk0/virtio-backend "write -P ${(b % 250) + 1} ${b}M 1M"`);
  const ms = (n: number) => `${n.toFixed(0)} ms`;
  const cbtIncrement = async (label: string) => {
    const steps: BackupSteps = { open: 0, changes: 0, read: 0, close: 0, commit: 0 };
    const trace = newTrace();
    const inc = await timed(async () => backUp(repo, vm.id, () => platform.openDisk(vm.id, 'disk0', { changeTracking: true }), full.value.manifest, steps, trace));
    console.log(`kvm 1% increment through CBT${label}: ${inc.s.toFixed(3)} s, ${(inc.value.stats.bytesRead / 2 ** 20).toFixed(1)} MiB read, ${inc.value.stats.blocksNew} blocks new to the repository`);
    console.log(
      `  of which: open ${ms(steps.open)}, backup job begin + dirty extents ${ms(steps.changes)}, read + store ${ms(steps.read - steps.changes)}, ` +
        `job end + checkpoint pruning ${ms(steps.close)}, manifest ${ms(steps.commit)}`,
    );
    console.log(`  reads: ${describeTrace(trace)}`);
    return inc;
  };
  const profileTo = process.env.OPENEM_BENCH_CPU_PROFILE;
  let profiler = await startCpuProfile(profileTo && `${profileTo}.increment.cpuprofile`);
  const inc = await cbtIncrement(` (warm, round 1 of ${ROUNDS})`);
  await profiler.stop();
  // The warm rounds after the first repeat the same increment from the same previous point (the bitmaps since the
  // full point's checkpoint hold the same 1%; its blocks are stored already, as in the first round but for 5).
  const incs = [inc];
  for (let r = 2; r <= ROUNDS; r++) incs.push(await cbtIncrement(` (warm, round ${r} of ${ROUNDS})`));

  // The local platform's way: the same image as a raw file with the same change, every allocated block hashed.
  const localRepo = await openRepository(join(dir, 'repo-local'), { create: true });
  const localFull = await backUp(localRepo, 'bench-local', () => ImageFileSource.open(raw));
  const fh = await open(raw, 'r+');
  for (const b of changed) await fh.write(Buffer.alloc(BLOCK_SIZE, (b % 250) + 1), 0, BLOCK_SIZE, b * BLOCK_SIZE);
  await fh.sync();
  await fh.close();
  execFileSync('cat', [raw], { stdio: ['ignore', 'ignore', 'inherit'] });
  const localIncrement = async (label: string) => {
    const trace = newTrace();
    const localInc = await timed(async () => backUp(localRepo, 'bench-local', () => ImageFileSource.open(raw), localFull.manifest, undefined, trace));
    console.log(`local 1% increment (full scan)${label}: ${localInc.s.toFixed(2)} s, ${(localInc.value.stats.bytesRead / GiB).toFixed(2)} GiB read, ${localInc.value.stats.blocksNew} blocks new to the repository`);
    console.log(`  reads: ${describeTrace(trace)}`);
    return localInc;
  };
  const localIncs = [];
  for (let r = 1; r <= ROUNDS; r++) localIncs.push(await localIncrement(` (warm, round ${r} of ${ROUNDS})`));

  // Cold: the same increments again (from the same previous points), each image's pages dropped first.
  console.log('cold: image not in page cache');
  dropFromPageCache(volume, 'the qcow2 volume');
  const coldInc = await cbtIncrement(' (cold: image not in page cache)');
  dropFromPageCache(raw, 'the raw image');
  const coldLocalInc = await localIncrement(' (cold: image not in page cache)');
  await localRepo.close();

  // QuickRollback to the full point, VM off, from CBT.
  readPacksOnce(join(dir, 'repo-kvm'));
  for (const b of changed) lv.virsh('qemu-monitor-command', vm.id, '--hmp', `qemu-io -d /machine/peripheral/ua-disk0/virtio-backend "write -P 0xfe ${b}M 1M"`);
  lv.virsh('destroy', vm.id);
  // The service's own per-disk QuickRollback (quick-rollback-disk-plan.ts), then its write (restore-into-original-vm.ts
  // writeDisks: the early writer taken, applyDiskPlan); only the session, the VM's mark and its config are left out.
  const quickRollback = async (label: string) => {
    const at = { manifestsFrom: NaN, manifestsTo: NaN, openCalled: NaN, opened: NaN, planned: NaN, wrote: NaN, flushed: NaN };
    const t0 = performance.now();
    const since = () => performance.now() - t0;
    const manifestSpan = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
      if (Number.isNaN(at.manifestsFrom)) at.manifestsFrom = since();
      try {
        return await fn(...a);
      } finally {
        at.manifestsTo = since();
      }
    };
    const repository = Object.create(repo, { listManifests: { value: manifestSpan(() => repo.listManifests()) }, readManifest: { value: manifestSpan((id: string) => repo.readManifest(id)) } }) as Repository;
    const writers = {
      openDiskForWrite: async (vmId: string, diskName: string) => {
        at.openCalled = since();
        const w = await platform.openDiskForWrite(vmId, diskName);
        at.opened = since();
        const sync = w.sync.bind(w);
        w.sync = async () => {
          at.wrote = since();
          await sync();
          at.flushed = since();
        };
        return w;
      },
    };
    const run = {
      ctx: { repository, platform: Object.assign(Object.create(platform), writers) },
      manifest: full.value.manifest,
      signal: new AbortController().signal,
      progress: new RestoreProgress(systemClock, async () => {}),
      log: async () => {},
    } as unknown as RestoreRun;
    const early = new EarlyDiskWriters(run.ctx.platform, vm.id);
    let counters;
    try {
      const plan = await quickRollbackDiskPlan(run, vm, 0, { bytes: DEFAULT_HOLD_BYTES }, early);
      at.planned = since();
      const writer = await (early.take('disk0') ?? platform.openDiskForWrite(vm.id, 'disk0'));
      try {
        counters = await applyDiskPlan(repository, writer, plan);
      } finally {
        await writer.close();
      }
    } finally {
      await early.closeAll();
    }
    const s = since() / 1000;
    console.log(`kvm QuickRollback of 1% from CBT${label}: ${s.toFixed(2)} s, ${counters.blocksWritten} blocks written, ${counters.blocksZeroed} zeroed, ${counters.bytesScanned} bytes compared`);
    const sec = (ms: number) => (ms / 1000).toFixed(3);
    console.log(
      `  of which: the later points' manifests ${sec(at.manifestsTo - at.manifestsFrom)} s (from ${sec(at.manifestsFrom)} s), plan final at ${sec(at.openCalled)} s; ` +
        `opening the disk for write ${sec(at.opened - at.openCalled)} s beside the fetch + verify, which ended at ${sec(at.planned)} s; ` +
        `writes ${sec(at.wrote - at.planned)} s, flush ${sec(at.flushed - at.wrote)} s, close ${sec(since() - at.flushed)} s`,
    );
    return { s, value: counters };
  };
  // The same 1% changed again while the VM is off (written through qemu-nbd, as the rollback writes: the image's
  // bitmaps see it), for the rounds after the first and the cold run.
  const changeAgain = async (fill: number) => {
    const dirtier = await platform.openDiskForWrite(vm.id, 'disk0');
    try {
      for (const b of changed) await dirtier.write(b * BLOCK_SIZE, Buffer.alloc(BLOCK_SIZE, fill));
    } finally {
      await dirtier.close();
    }
  };
  profiler = await startCpuProfile(profileTo && `${profileTo}.rollback.cpuprofile`);
  const rollbacks = [await quickRollback(` (warm, round 1 of ${ROUNDS})`)];
  await profiler.stop();
  for (let r = 2; r <= ROUNDS; r++) {
    await changeAgain(0xf0 + r);
    rollbacks.push(await quickRollback(` (warm, round ${r} of ${ROUNDS})`));
  }
  execFileSync('cat', [volume], { stdio: ['ignore', 'ignore', 'inherit'] });
  const cats = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const cat = await timed(async () => execFileSync('cat', [volume], { stdio: ['ignore', 'ignore', 'inherit'] }));
    console.log(`baseline cat of the qcow2 image (warm, round ${r} of ${ROUNDS}): ${cat.s.toFixed(2)} s (page cache warm)`);
    cats.push(cat);
  }

  // Cold: the same 1% changed again, then rolled back.
  console.log('cold: image not in page cache');
  await changeAgain(0xfd);
  dropFromPageCache(volume, 'the qcow2 volume');
  const coldRollback = await quickRollback(' (cold: image not in page cache)');
  dropFromPageCache(volume, 'the qcow2 volume');
  const coldCat = await timed(async () => execFileSync('cat', [volume], { stdio: ['ignore', 'ignore', 'inherit'] }));
  console.log(`baseline cat of the qcow2 image (cold: image not in page cache): ${coldCat.s.toFixed(2)} s`);
  await repo.close();
  await state.close();

  console.log(`\nsummary (${kvm ? 'KVM' : 'TCG'}, load ${loadStart} at the start, ${loadNow()} at the end)`);
  const seconds = (runs: { s: number }[]) => runs.map((r) => r.s.toFixed(3)).join(', ');
  console.log(`warm rounds (s): kvm CBT increments ${seconds(incs)}; local full scans ${seconds(localIncs)}; QuickRollbacks ${seconds(rollbacks)}; cats ${seconds(cats)}`);
  reportResult(`1% increment: local full scan time / kvm CBT time (medians of ${ROUNDS} warm rounds)`, median(localIncs) / median(incs), '>=', 10, {
    baseline: 'local platform increment of the same image (raw), same process',
  });
  reportResult(`QuickRollback of 1% via CBT / cat of the disk (medians of ${ROUNDS} warm rounds)`, median(rollbacks) / median(cats), '<=', 0.2, {
    baseline: 'cat of the qcow2 image, page cache warm',
  });
  reportResult('cold: image not in page cache — 1% increment: local full scan time / kvm CBT time', coldLocalInc.s / coldInc.s, '>=', 10, {
    baseline: 'local platform increment of the same image (raw), its pages dropped first; the CBT run with the qcow2 volume\'s pages dropped',
  });
  reportResult('cold: image not in page cache — QuickRollback of 1% via CBT / cat of the disk', coldRollback.s / coldCat.s, '<=', 0.2, {
    baseline: 'cat of the qcow2 image, its pages dropped first (and before the rollback)',
  });
} finally {
  await lv.stop();
  await rm(dir, { recursive: true, force: true });
}
