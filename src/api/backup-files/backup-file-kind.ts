import { hostname } from 'node:os';
import { text } from '../wire/wire-node.js';
import type { ResourceKind } from '../inventory/resource-kind.js';
import type { ApiContext } from '../api-context.js';
import type { Principal } from '../../services/auth/logon-sessions.js';
import { isoUtc } from '../inventory/em-dates.js';
import { assertPointVisible, visiblePoints } from '../inventory/visible-points.js';
import { listJobs } from '../../services/backup/jobs.js';
import { findVmRestorePoint, type VmRestorePointRecord } from '../../services/inventory/restore-point-records.js';
import { backupFileFigures, type BackupFileFigures } from '../../services/monitoring/backup-file-figures.js';
import type { RestorePointManifest } from '../../repository/repository.js';

/** A VM restore point's manifest as EM's backup file: openem keeps one manifest per VM per restore point. */
export interface BackupFileItem {
  point: VmRestorePointRecord;
  jobName: string;
  figures: BackupFileFigures;
}

/** The manifest's object in the repository (relative: the server's own folders are not the client's business). */
export const backupFileName = (id: string) => `${id}.json`;
const backupFilePath = (id: string) => `manifests/${id}.json`;
const round2 = (x: number) => Math.round(x * 100) / 100;

async function toItems(ctx: ApiContext, points: VmRestorePointRecord[]): Promise<BackupFileItem[]> {
  const jobs = new Map((await listJobs(ctx)).map((j) => [j.id, j.name]));
  const manifests = new Map<string, RestorePointManifest | undefined>();
  const manifest = async (id: string) => {
    if (!manifests.has(id)) manifests.set(id, await ctx.repository.readManifest(id));
    return manifests.get(id);
  };
  const out: BackupFileItem[] = [];
  for (const point of points) {
    const m = await manifest(point.id);
    if (!m) continue;
    const parent = m.parentId ? await manifest(m.parentId) : undefined;
    out.push({ point, jobName: jobs.get(point.jobId) ?? point.jobId, figures: await backupFileFigures(ctx.repository, m, parent) });
  }
  return out;
}

export async function listBackupFiles(ctx: ApiContext, p: Principal, filter: { restorePointId?: string; jobId?: string } = {}): Promise<BackupFileItem[]> {
  const points = (await visiblePoints(ctx, p, { restorePointId: filter.restorePointId })).filter((r) => !filter.jobId || r.jobId === filter.jobId);
  return toItems(ctx, points);
}

/**
 * `/backupFiles` (backupfiles_id.md example): Links Up backup, Up backup server, Alternate, Related restore points
 * (typed `BackupFileReferenceList` as on the page), Down VM restore points; then FilePath, BackupSize, DataSize,
 * DeduplicationRatio, CompressRatio, CreationTimeUtc, FileType. A Full point is a `vbk`, an Increment a `vib`.
 * BackupSize is the compressed size of the blocks the point added; DataSize the raw size of every block it names;
 * CompressRatio the added blocks' raw/compressed; DeduplicationRatio DataSize over the added blocks' raw size.
 */
export const backupFileKind: ResourceKind<BackupFileItem> = {
  type: 'BackupFile',
  collection: '/backupFiles',
  entityList: 'BackupFiles',
  list: (ctx, p) => listBackupFiles(ctx, p),
  find: async (ctx, p, id) => {
    const point = await findVmRestorePoint(ctx, id);
    if (!point) return undefined;
    await assertPointVisible(ctx, p, point);
    return (await toItems(ctx, [point]))[0];
  },
  id: (f) => f.point.id,
  name: (f) => backupFileName(f.point.id),
  refLinks: (base, f, ctx) => [
    { rel: 'Up', type: 'BackupReference', href: `${base}/backups/${f.point.jobId}`, name: f.jobName },
    { rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${ctx.backupServerId}`, name: hostname() },
  ],
  entity: (base, f, ctx) => {
    const href = `${base}/backupFiles/${f.point.id}`;
    const { backupSize, dataSize, addedRaw } = f.figures;
    return {
      links: [
        { rel: 'Up', type: 'BackupReference', href: `${base}/backups/${f.point.jobId}`, name: f.jobName },
        { rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${ctx.backupServerId}`, name: hostname() },
        { rel: 'Alternate', type: 'BackupFileReference', href, name: backupFileName(f.point.id) },
        { rel: 'Related', type: 'BackupFileReferenceList', href: `${href}/restorePoints` },
        { rel: 'Down', type: 'VmRestorePointReferenceList', href: `${href}/vmRestorePoints` },
      ],
      children: [
        text('FilePath', backupFilePath(f.point.id)),
        text('BackupSize', backupSize),
        text('DataSize', dataSize),
        text('DeduplicationRatio', addedRaw > 0 ? round2(dataSize / addedRaw) : 0),
        text('CompressRatio', backupSize > 0 ? round2(addedRaw / backupSize) : 0),
        text('CreationTimeUtc', isoUtc(f.point.createdAt)),
        text('FileType', f.point.pointType === 'Full' ? 'vbk' : 'vib'),
      ],
    };
  },
  // get_query_backupfile.md
  fields: (f) => ({
    uid: `urn:veeam:BackupFile:${f.point.id}`,
    name: backupFileName(f.point.id),
    creationtimeutc: f.point.createdAt,
    backupsize: f.figures.backupSize,
    datasize: f.figures.dataSize,
    compressratio: f.figures.backupSize > 0 ? round2(f.figures.addedRaw / f.figures.backupSize) : 0,
    filetype: f.point.pointType === 'Full' ? 'vbk' : 'vib',
    backupuid: `urn:veeam:Backup:${f.point.jobId}`,
    backupname: f.jobName,
    backupserveruid: undefined,
    backupservername: hostname(),
  }),
};
