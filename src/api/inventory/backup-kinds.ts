import { hostname } from 'node:os';
import { text } from '../wire/wire-node.js';
import type { ResourceKind } from './resource-kind.js';
import { listJobs, findJob, type JobRecord } from '../../services/backup/jobs.js';
import { isAdmin } from '../../services/auth/access.js';
import { forbidden } from '../../errors.js';
import { visiblePoints } from './visible-points.js';
import { isoUtc, restorePointName } from './em-dates.js';
import type { ApiContext } from '../api-context.js';
import type { Principal } from '../../services/auth/logon-sessions.js';
import { REPOSITORY_NAME, repositoryIdOf } from '../infrastructure/repository-kind.js';

const serverLink = (base: string, ctx: ApiContext) => ({ rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${ctx.backupServerId}`, name: hostname() });

/** Jobs (and backups) a non-admin sees: those holding at least one restore point in their scope. */
async function visibleJobIds(ctx: ApiContext, p: Principal): Promise<Set<string> | undefined> {
  if (isAdmin(p)) return undefined;
  return new Set((await visiblePoints(ctx, p)).map((r) => r.jobId));
}

async function findVisibleJob(ctx: ApiContext, p: Principal, id: string): Promise<JobRecord | undefined> {
  const job = await findJob(ctx, id);
  if (!job || job.id !== id.toLowerCase()) return undefined;
  const visible = await visibleJobIds(ctx, p);
  if (visible && !visible.has(job.id)) throw forbidden(`Job ${job.name} is outside the restore scope of account ${p.account.name}`);
  return job;
}

async function listVisibleJobs(ctx: ApiContext, p: Principal): Promise<JobRecord[]> {
  const visible = await visibleJobIds(ctx, p);
  return (await listJobs(ctx)).filter((j) => !visible || visible.has(j.id));
}

/** Backup jobs (em-api.md §4 "/jobs"); `Start` runs one (`POST /jobs/{ID}?action=start`). */
export const jobKind: ResourceKind<JobRecord> = {
  type: 'Job',
  collection: '/jobs',
  entityList: 'Jobs',
  list: listVisibleJobs,
  find: findVisibleJob,
  id: (j) => j.id,
  name: (j) => j.name,
  // jobs_id.md: the job's backup job sessions are a Down link of the reference and the entity (issue 10 §4).
  refLinks: (base, j, ctx) => [serverLink(base, ctx), { rel: 'Down', type: 'BackupJobSessionReferenceList', href: `${base}/jobs/${j.id}/backupSessions` }],
  entity: (base, j, ctx) => ({
    links: [
      serverLink(base, ctx),
      { rel: 'Alternate', type: 'JobReference', href: `${base}/jobs/${j.id}`, name: j.name },
      { rel: 'Down', type: 'BackupJobSessionReferenceList', href: `${base}/jobs/${j.id}/backupSessions` },
      { rel: 'Start', href: `${base}/jobs/${j.id}?action=start` },
    ],
    children: [text('JobType', 'Backup'), text('Platform', 'VMware'), text('Description', `Backs up ${j.vmNames.join(', ')}`), text('ScheduleConfigured', false), text('ScheduleEnabled', false)],
  }),
  fields: (j) => ({ uid: `urn:veeam:Job:${j.id}`, name: j.name, jobtype: 'Backup' }),
};

/** One backup per job: the chain of its restore points (em-api.md §4 "/backups"). */
export const backupKind: ResourceKind<JobRecord> = {
  type: 'Backup',
  collection: '/backups',
  entityList: 'Backups',
  list: async (ctx, p) => {
    const withPoints = new Set((await visiblePoints(ctx, p)).map((r) => r.jobId));
    return (await listJobs(ctx)).filter((j) => withPoints.has(j.id));
  },
  find: findVisibleJob,
  id: (j) => j.id,
  name: (j) => j.name,
  // get_backups_id.md: Up repository, Up backup server, Alternate, Down restore points, Down backup files (issue 10 §4).
  refLinks: (base, j, ctx) => [
    { rel: 'Up', type: 'RepositoryReference', href: `${base}/repositories/${repositoryIdOf(ctx)}`, name: REPOSITORY_NAME },
    serverLink(base, ctx),
    { rel: 'Alternate', type: 'Backup', href: `${base}/backups/${j.id}?format=Entity`, name: j.name },
    { rel: 'Down', type: 'RestorePointReferenceList', href: `${base}/backups/${j.id}/restorePoints` },
    { rel: 'Down', type: 'BackupFileReferenceList', href: `${base}/backups/${j.id}/backupFiles` },
  ],
  entity: (base, j, ctx) => ({
    links: [
      { rel: 'Up', type: 'RepositoryReference', href: `${base}/repositories/${repositoryIdOf(ctx)}`, name: REPOSITORY_NAME },
      serverLink(base, ctx),
      { rel: 'Alternate', type: 'BackupReference', href: `${base}/backups/${j.id}`, name: j.name },
      { rel: 'Down', type: 'RestorePointReferenceList', href: `${base}/backups/${j.id}/restorePoints` },
      { rel: 'Down', type: 'BackupFileReferenceList', href: `${base}/backups/${j.id}/backupFiles` },
      { rel: 'Up', type: 'JobReference', href: `${base}/jobs/${j.id}`, name: j.name },
    ],
    children: [text('Platform', 'VMware')],
  }),
  fields: (j) => ({ uid: `urn:veeam:Backup:${j.id}`, name: j.name }),
};

export interface RestorePointItem {
  id: string;
  jobId: string;
  jobName: string;
  createdAt: number;
}

async function listRestorePoints(ctx: ApiContext, p: Principal): Promise<RestorePointItem[]> {
  const points = await visiblePoints(ctx, p);
  const jobs = new Map((await listJobs(ctx)).map((j) => [j.id, j.name]));
  const byId = new Map<string, RestorePointItem>();
  for (const r of points) {
    const cur = byId.get(r.restorePointId);
    if (!cur || r.createdAt < cur.createdAt) byId.set(r.restorePointId, { id: r.restorePointId, jobId: r.jobId, jobName: jobs.get(r.jobId) ?? r.jobId, createdAt: r.createdAt });
  }
  return [...byId.values()].sort((a, b) => b.createdAt - a.createdAt);
}

/** A job run's point in time, holding one VM restore point per VM (em-api.md §4 "/restorePoints"). */
export const restorePointKind: ResourceKind<RestorePointItem> = {
  type: 'RestorePoint',
  collection: '/restorePoints',
  entityList: 'RestorePoints',
  list: listRestorePoints,
  find: async (ctx, p, id) => {
    const all = await listRestorePoints(ctx, p);
    const hit = all.find((r) => r.id === id.toLowerCase());
    if (hit || isAdmin(p)) return hit;
    const exists = await ctx.store.db.selectFrom('restore_points').select('id').where('id', '=', id.toLowerCase()).executeTakeFirst();
    if (exists) throw forbidden(`Restore point ${id} is outside the restore scope of account ${p.account.name}`);
    return undefined;
  },
  id: (r) => r.id,
  name: (r) => restorePointName(r.createdAt),
  refLinks: (base, r, ctx) => [
    { rel: 'Up', type: 'BackupReference', href: `${base}/backups/${r.jobId}`, name: r.jobName },
    serverLink(base, ctx),
    { rel: 'Alternate', type: 'RestorePoint', href: `${base}/restorePoints/${r.id}?format=Entity`, name: restorePointName(r.createdAt) },
    { rel: 'Down', type: 'VmRestorePointReferenceList', href: `${base}/restorePoints/${r.id}/vmRestorePoints` },
    { rel: 'Related', type: 'RestorePointReferenceList', href: `${base}/restorePoints/${r.id}/backupFiles` },
  ],
  // restorepoints_id.md example: Up backup, Up backup server, Alternate, Down VM restore points, Related backup files.
  entity: (base, r, ctx) => ({
    links: [
      { rel: 'Up', type: 'BackupReference', href: `${base}/backups/${r.jobId}`, name: r.jobName },
      serverLink(base, ctx),
      { rel: 'Alternate', type: 'RestorePointReference', href: `${base}/restorePoints/${r.id}`, name: restorePointName(r.createdAt) },
      { rel: 'Down', type: 'VmRestorePointReferenceList', href: `${base}/restorePoints/${r.id}/vmRestorePoints` },
      { rel: 'Related', type: 'RestorePointReferenceList', href: `${base}/restorePoints/${r.id}/backupFiles` },
    ],
    children: [text('BackupDateUTC', isoUtc(r.createdAt))],
  }),
  fields: (r) => ({ uid: `urn:veeam:RestorePoint:${r.id}`, name: restorePointName(r.createdAt), creationtime: r.createdAt, backupdateutc: r.createdAt, jobname: r.jobName }),
};
