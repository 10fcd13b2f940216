import { checkpointTargets } from './domain-xml.js';
import type { Libvirt } from './libvirt.js';

/** The names of openem's checkpoints and dirty bitmaps: `openem-<ms since epoch>-<8 hex>`. */
export const CHECKPOINT_PREFIX = 'openem-';
const OPENEM_CHECKPOINT = /^openem-\d+-[0-9a-f]{8}$/;

export function newCheckpointName(now: Date, random: string): string {
  return `${CHECKPOINT_PREFIX}${now.getTime()}-${random.replace(/[^0-9a-f]/g, '').padEnd(8, '0').slice(0, 8)}`;
}

export function isOpenemCheckpoint(name: string): boolean {
  return OPENEM_CHECKPOINT.test(name);
}

/**
 * Which of openem's checkpoints (or bitmaps) of one disk a backup's opening drops when it closes: every one but
 * the one it made (the next backup counts from it) and the one it counted from (still the newest restore point's,
 * should this backup fail before its manifest is written). So at most two stay per disk, and each costs the guest
 * a bitmap update per write; QuickRollback counts from the newest point's checkpoint, which is one of the two.
 */
export function checkpointsToDrop(names: readonly string[], keep: readonly (string | undefined)[]): string[] {
  return names.filter((n) => isOpenemCheckpoint(n) && !keep.includes(n));
}

/**
 * Deletes openem's libvirt checkpoints of disk `target` of domain `uuid` that `checkpointsToDrop` picks (libvirt
 * merges a deleted checkpoint's bitmap into its parent, so later ones still cover every write). Checkpoints of the
 * domain's other disks are left alone. Best effort: one that cannot go now is picked again at the next backup.
 * `known`: the domain's checkpoints when the caller has just listed them (then they are not listed again).
 */
export async function pruneLibvirtCheckpoints(libvirt: Libvirt, uuid: string, target: string, keep: readonly (string | undefined)[], known?: readonly string[]): Promise<string[]> {
  const names = known ?? (await libvirt.checkpointNames(uuid).catch((): string[] => []));
  const dropped: string[] = [];
  for (const name of checkpointsToDrop(names, keep)) {
    const xml = await libvirt.checkpointXml(uuid, name).catch(() => '');
    const targets = checkpointTargets(xml);
    if (targets.length !== 1 || targets[0] !== target) continue;
    if (await libvirt.deleteCheckpoint(uuid, name).then(() => true, () => false)) dropped.push(name);
  }
  return dropped;
}
