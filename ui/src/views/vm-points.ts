import { api, get, type Linked } from '../api/client.js';
import { idOfUid, platformOf, type Platform } from '../format.js';

export interface VmRestorePoint extends Linked {
  UID: string;
  Name: string;
  VmName: string;
  VmDisplayName: string;
  CreationTimeUTC: string;
  PointType: 'Full' | 'Increment' | string;
  HierarchyObjRef: string;
}

export interface VmPoints {
  vmName: string;
  platform: Platform;
  hierarchyObjRef: string;
  /** Newest first. */
  points: (VmRestorePoint & { id: string; size?: number })[];
}

/**
 * Every VM restore point the caller may see (the query service filters by restore scope), grouped by VM, with the
 * size each point added to the repository from its backup file (`BackupSize`, backupfiles_id.md) where the
 * caller may read backup files.
 */
export async function loadVmPoints(): Promise<VmPoints[]> {
  const [q, files] = await Promise.all([
    get(api('/query?type=VmRestorePoint&format=Entities&sortDesc=CreationTime')),
    get(api('/backupFiles?format=Entity')).catch(() => ({ BackupFiles: [] })),
  ]);
  const sizes = new Map<string, number>();
  for (const f of files.BackupFiles ?? []) sizes.set(String(f.Name).replace(/\.json$/, ''), f.BackupSize);
  const byVm = new Map<string, VmPoints>();
  for (const p of (q.Entities?.VmRestorePoints?.VmRestorePoints ?? []) as VmRestorePoint[]) {
    const id = idOfUid(p.UID);
    let vm = byVm.get(p.VmDisplayName);
    if (!vm) byVm.set(p.VmDisplayName, (vm = { vmName: p.VmDisplayName, platform: platformOf(p.HierarchyObjRef), hierarchyObjRef: p.HierarchyObjRef, points: [] }));
    vm.points.push({ ...p, id, size: sizes.get(id) });
  }
  return [...byVm.values()].sort((a, b) => a.vmName.localeCompare(b.vmName));
}
