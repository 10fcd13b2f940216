import { hostname } from 'node:os';
import { text } from '../wire/wire-node.js';
import type { ResourceKind } from './resource-kind.js';
import { findVmRestorePoint, type VmRestorePointRecord } from '../../services/inventory/restore-point-records.js';
import { emTimestamp, isoUtc, restorePointName } from './em-dates.js';
import { assertPointVisible, visiblePoints } from './visible-points.js';
import { hierarchyRef } from '../lookup/hierarchy-refs.js';

/** `sql01-hv@2013-08-21 10:44:36` (seed 003). */
export const vmRestorePointName = (r: VmRestorePointRecord) => `${r.vmName}@${emTimestamp(r.createdAt)}`;

/** The VM as a hierarchy object reference (em-api.md §3: `urn:VMware:Vm:<root>.vm-…`, `urn:HyperV:Vm:…`, `urn:vCloud:Vm:…`). */
export function hierarchyObjRef(r: VmRestorePointRecord): string {
  return hierarchyRef(r.platform, 'Vm', r.hierarchyRootId, r.vmId)!;
}

/**
 * VM restore points (seed 003, em-api.md §4): the reference carries Up links to the backup server and the
 * restore point and Alternate to the entity; the entity adds Restore, the mount list and mount Create.
 */
export const vmRestorePointKind: ResourceKind<VmRestorePointRecord> = {
  type: 'VmRestorePoint',
  collection: '/vmRestorePoints',
  entityList: 'VmRestorePoints',
  list: (ctx, p) => visiblePoints(ctx, p),
  find: async (ctx, p, id) => {
    const r = await findVmRestorePoint(ctx, id);
    if (r) await assertPointVisible(ctx, p, r);
    return r;
  },
  id: (r) => r.id,
  name: vmRestorePointName,
  refLinks: (base, r, ctx) => [
    { rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${ctx.backupServerId}`, name: hostname() },
    { rel: 'Up', type: 'RestorePointReference', href: `${base}/restorePoints/${r.restorePointId}`, name: restorePointName(r.createdAt) },
    { rel: 'Up', type: 'BackupFileReference', href: `${base}/backupFiles/${r.id}`, name: `${r.id}.json` },
  ],
  entity: (base, r, ctx) => ({
    attrs: [['VmDisplayName', r.vmName]],
    links: [
      { rel: 'Restore', href: `${base}/vmRestorePoints/${r.id}?action=restore` },
      { rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${ctx.backupServerId}`, name: hostname() },
      { rel: 'Up', type: 'RestorePointReference', href: `${base}/restorePoints/${r.restorePointId}`, name: restorePointName(r.createdAt) },
      // vmrestorepoints_id.md: clients read Links[3] as the backup file (em-clients.md); its manifest is the file.
      { rel: 'Up', type: 'BackupFileReference', href: `${base}/backupFiles/${r.id}`, name: `${r.id}.json` },
      { rel: 'Alternate', type: 'VmRestorePointReference', href: `${base}/vmRestorePoints/${r.id}`, name: vmRestorePointName(r) },
      { rel: 'Down', type: 'VmRestorePointMountList', href: `${base}/vmRestorePoints/${r.id}/mounts` },
      { rel: 'Create', type: 'VmRestorePointMount', href: `${base}/vmRestorePoints/${r.id}/mounts` },
    ],
    children: [
      text('CreationTimeUTC', isoUtc(r.createdAt)),
      text('VmName', r.vmName),
      text('Algorithm', r.pointType === 'Full' ? 'Full' : 'Incremental'),
      text('PointType', r.pointType),
      text('HierarchyObjRef', hierarchyObjRef(r)),
    ],
  }),
  fields: (r) => ({
    uid: `urn:veeam:VmRestorePoint:${r.id}`,
    name: vmRestorePointName(r),
    creationtime: r.createdAt,
    type: r.pointType,
    pointtype: r.pointType,
    algorithm: r.pointType === 'Full' ? 'Full' : 'Incremental',
    restorepointid: r.restorePointId,
    restorepointname: restorePointName(r.createdAt),
    vmdisplayname: r.vmName,
    vmname: r.vmName,
    backupserveruid: undefined,
    backupservername: hostname(),
  }),
};
