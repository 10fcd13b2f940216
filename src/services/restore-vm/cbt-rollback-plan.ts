import { BLOCK_SIZE, type BlockSource, type Extent } from '../../disks/block-source.js';
import type { DiskManifest, Repository, RestorePointManifest } from '../../repository/repository.js';
import type { DiskRestorePlan } from './disk-restore-plan.js';
import { byAge } from '../../repository/repository-catalog.js';

/** Restore points whose checkpoints a QuickRollback asks the disk about, newest first. */
const POINTS_ASKED = 4;

/** A later (or the same) restore point's copy of the disk, whose checkpoint the platform may still know. */
export interface TrackedPoint {
  createdAt: string;
  disk: DiskManifest;
}

export type CbtRollbackPlan = { plan: DiskRestorePlan; countedFrom: TrackedPoint } | { broken: string };

/**
 * The VM's restore points that may let changed-block tracking reach `point` for disk `diskName`: the same VM's,
 * newest first, each with a checkpoint for a disk of the same size (the point itself among them).
 */
export async function trackedPoints(repository: Repository, point: RestorePointManifest, vmId: string, diskName: string): Promise<TrackedPoint[]> {
  const size = point.disks.find((d) => d.name === diskName)?.size;
  const summaries = (await repository.listManifests()).filter((m) => m.vmId === vmId && m.createdAt >= point.createdAt).sort((a, b) => byAge(b, a));
  const out: TrackedPoint[] = [];
  // Read POINTS_ASKED at a time, at once: the newest are nearly always the ones asked.
  for (let at = 0; at < summaries.length && out.length < POINTS_ASKED; at += POINTS_ASKED) {
    const read = await Promise.all(summaries.slice(at, at + POINTS_ASKED).map((s) => (s.id === point.id ? point : repository.readManifest(s.id))));
    for (const m of read) {
      const disk = m?.disks.find((d) => d.name === diskName);
      if (m && disk?.checkpoint !== undefined && disk.size === size && out.length < POINTS_ASKED) out.push({ createdAt: m.createdAt, disk });
    }
  }
  return out;
}

/**
 * QuickRollback from changed-block tracking (seed 001 "only these data blocks"; issue #13): the blocks that may
 * differ from the restore point are those written since a later point Q's checkpoint plus those that differ
 * between the point and Q in their manifests. Every other block holds what Q read, which is the point's. Nothing
 * of the disk is read. The newest Q the platform still tracks is asked first (its set is the smallest); when none
 * is tracked any more, the answer says why and the caller compares hashes instead.
 */
export async function cbtRollbackPlan(current: BlockSource, point: DiskManifest, later: TrackedPoint[]): Promise<CbtRollbackPlan> {
  const tracking = current.changeTracking;
  if (!tracking) return { broken: 'the disk has no changed-block tracking' };
  if (later.length === 0) return { broken: 'no restore point from this one on recorded a changed-block-tracking checkpoint of the disk' };
  const reasons: string[] = [];
  for (const q of later) {
    const changed = await tracking.changedBlocksSince(q.disk.checkpoint!);
    if (!Array.isArray(changed)) {
      reasons.push(changed.broken);
      continue;
    }
    return { plan: planOf(point, q.disk, changed), countedFrom: q };
  }
  return { broken: reasons[0] };
}

function planOf(point: DiskManifest, q: DiskManifest, changed: Extent[]): DiskRestorePlan {
  const differs = new Uint8Array(point.blocks.length);
  for (const e of changed) {
    const first = Math.floor(e.offset / BLOCK_SIZE);
    const end = Math.min(point.blocks.length, Math.ceil((e.offset + e.length) / BLOCK_SIZE));
    differs.fill(1, first, end);
  }
  for (let i = 0; i < point.blocks.length; i++) if (q.blocks[i] !== point.blocks[i]) differs[i] = 1;
  const plan: DiskRestorePlan = { diskName: point.name, size: point.size, fetch: [], zero: [], unchanged: 0, scannedBytes: 0 };
  for (let index = 0; index < point.blocks.length; index++) {
    const hash = point.blocks[index];
    if (!differs[index]) plan.unchanged++;
    else if (hash === null) plan.zero.push(index);
    else plan.fetch.push({ index, hash });
  }
  return plan;
}
