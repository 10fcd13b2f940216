/**
 * The kvm platform's CBT (issue #13): a VM with a 4 GiB qcow2 disk (half random, a quarter text, a quarter holes)
 * run by a private libvirt daemon; a full live backup, then the guest changes 1% of the blocks (every 100th).
 *  1. The 1% increment read through changed-block tracking (libvirt's pull backup, the dirty-bitmap context),
 *     against the local platform's increment of the same image as a raw file with the same change, which hashes
 *     every allocated block. Goal: >= 10x faster.
 *  2. QuickRollback of that 1% to the full point from CBT (VM off: plan from the bitmap and the manifests, fetch,
 *     write through qemu-nbd), against `cat` reading the qcow2 image (page cache warm). Goal: <= 0.2x the time.
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
import { cbtRollbackPlan, trackedPoints } from '../src/services/restore-vm/cbt-rollback-plan.js';
import { startPrivateLibvirtd as startPrivateLibvirt } from '../src/platform/kvm/private-libvirtd.js';
import { generateBenchImage } from './bench-image.js';
import { reportResult } from './bench-result.js';

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

async function backUp(repo: Repository, vmId: string, openSource: () => Promise<BlockSource>, previous?: RestorePointManifest, steps?: BackupSteps) {
  let t = performance.now();
  const lap = (step: Exclude<keyof BackupSteps, 'changes'>) => {
    if (steps) steps[step] = performance.now() - t;
    t = performance.now();
  };
  const source = steps ? timingChanges(await openSource(), steps) : await openSource();
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

  const repo = await openRepository(join(dir, 'repo-kvm'), { create: true });
  const full = await timed(async () => backUp(repo, vm.id, () => platform.openDisk(vm.id, 'disk0', { changeTracking: true })));
  console.log(`kvm full live backup: ${full.s.toFixed(2)} s, ${(full.value.stats.bytesRead / GiB).toFixed(2)} GiB read`);

  // The guest changes every 100th block (QEMU's own I/O on the guest's disk device, as a guest write is).
  for (const b of changed) lv.virsh('qemu-monitor-command', vm.id, '--hmp', `qemu-io -d /machine/peripheral/ua-disk0/virtio-backend "write -P ${(b % 250) + 1} ${b}M 1M"`);
  const steps: BackupSteps = { open: 0, changes: 0, read: 0, close: 0, commit: 0 };
  const inc = await timed(async () => backUp(repo, vm.id, () => platform.openDisk(vm.id, 'disk0', { changeTracking: true }), full.value.manifest, steps));
  console.log(`kvm 1% increment through CBT: ${inc.s.toFixed(3)} s, ${(inc.value.stats.bytesRead / 2 ** 20).toFixed(1)} MiB read`);
  const ms = (n: number) => `${n.toFixed(0)} ms`;
  console.log(
    `  of which: open ${ms(steps.open)}, backup job begin + dirty extents ${ms(steps.changes)}, read + store ${ms(steps.read - steps.changes)}, ` +
      `job end + checkpoint pruning ${ms(steps.close)}, manifest ${ms(steps.commit)}`,
  );

  // The local platform's way: the same image as a raw file with the same change, every allocated block hashed.
  const localRepo = await openRepository(join(dir, 'repo-local'), { create: true });
  const localFull = await backUp(localRepo, 'bench-local', () => ImageFileSource.open(raw));
  const fh = await open(raw, 'r+');
  for (const b of changed) await fh.write(Buffer.alloc(BLOCK_SIZE, (b % 250) + 1), 0, BLOCK_SIZE, b * BLOCK_SIZE);
  await fh.sync();
  await fh.close();
  execFileSync('cat', [raw], { stdio: ['ignore', 'ignore', 'inherit'] });
  const localInc = await timed(async () => backUp(localRepo, 'bench-local', () => ImageFileSource.open(raw), localFull.manifest));
  console.log(`local 1% increment (full scan): ${localInc.s.toFixed(2)} s, ${(localInc.value.stats.bytesRead / GiB).toFixed(2)} GiB read`);
  await localRepo.close();

  // QuickRollback to the full point, VM off, from CBT.
  for (const b of changed) lv.virsh('qemu-monitor-command', vm.id, '--hmp', `qemu-io -d /machine/peripheral/ua-disk0/virtio-backend "write -P 0xfe ${b}M 1M"`);
  lv.virsh('destroy', vm.id);
  const phases = { located: 0, points: 0, planned: 0, opened: 0, applied: 0 };
  const rollback = await timed(async () => {
    const t0 = performance.now();
    const source = await platform.openDisk(vm.id, 'disk0');
    phases.located = performance.now() - t0;
    let r;
    try {
      const points = await trackedPoints(repo, full.value.manifest, vm.id, 'disk0');
      phases.points = performance.now() - t0 - phases.located;
      r = await cbtRollbackPlan(source, full.value.manifest.disks[0], points);
    } finally {
      await source.close();
    }
    if ('broken' in r) throw new Error(`CBT did not reach the point: ${r.broken}`);
    phases.planned = performance.now() - t0;
    const writer = await platform.openDiskForWrite(vm.id, 'disk0');
    phases.opened = performance.now() - t0;
    try {
      return await applyDiskPlan(repo, writer, r.plan);
    } finally {
      await writer.close();
      phases.applied = performance.now() - t0;
    }
  });
  console.log(`kvm QuickRollback of 1% from CBT: ${rollback.s.toFixed(2)} s, ${rollback.value.blocksWritten} blocks written, ${rollback.value.blocksZeroed} zeroed, ${rollback.value.bytesScanned} bytes compared`);
  const sec = (ms: number) => (ms / 1000).toFixed(2);
  console.log(`  of which: plan from CBT ${sec(phases.planned)} s (the disk's opening ${sec(phases.located)} s, the later points' manifests ${sec(phases.points)} s), opening the disk for write ${sec(phases.opened - phases.planned)} s, fetch + write + flush ${sec(phases.applied - phases.opened)} s`);
  execFileSync('cat', [volume], { stdio: ['ignore', 'ignore', 'inherit'] });
  const cat = await timed(async () => execFileSync('cat', [volume], { stdio: ['ignore', 'ignore', 'inherit'] }));
  console.log(`baseline cat of the qcow2 image: ${cat.s.toFixed(2)} s (page cache warm)`);
  await repo.close();

  console.log(`\nsummary (${kvm ? 'KVM' : 'TCG'}, load ${loadStart} at the start, ${loadNow()} at the end)`);
  reportResult('1% increment: local full scan time / kvm CBT time', localInc.s / inc.s, '>=', 10, { baseline: 'local platform increment of the same image (raw), same process' });
  reportResult('QuickRollback of 1% via CBT / cat of the disk', rollback.s / cat.s, '<=', 0.2, { baseline: 'cat of the qcow2 image, page cache warm' });
} finally {
  await lv.stop();
  await rm(dir, { recursive: true, force: true });
}
