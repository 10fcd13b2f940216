import { hostname } from 'node:os';
import { el, links, list, text, type WireElement } from '../wire/wire-node.js';
import { EM_PLATFORM, jobView, type JobObject, type JobView } from './job-view.js';
import type { ResourceKind } from './resource-kind.js';
import { listJobs, findJob } from '../../services/backup/jobs.js';
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

async function findVisibleJob(ctx: ApiContext, p: Principal, id: string): Promise<JobView | undefined> {
  const job = await findJob(ctx, id);
  if (!job || job.id !== id.toLowerCase()) return undefined;
  const visible = await visibleJobIds(ctx, p);
  if (visible && !visible.has(job.id)) throw forbidden(`Job ${job.name} is outside the restore scope of account ${p.account.name}`);
  return jobView(ctx, job, p);
}

async function listVisibleJobs(ctx: ApiContext, p: Principal): Promise<JobView[]> {
  const visible = await visibleJobIds(ctx, p);
  return Promise.all((await listJobs(ctx)).filter((j) => !visible || visible.has(j.id)).map((j) => jobView(ctx, j, p)));
}

/** Guest processing as openem does it: nothing configured (no application-aware processing, no guest credentials). */
const noGuestProcessing = () =>
  el('GuestProcessingOptions', [], ['AppAwareProcessingMode', 'FileSystemIndexingMode', 'IncludedIndexingFolders', 'ExcludedIndexingFolders', 'CredentialsId', 'VssSnapshotOptions',
    'WindowsGuestFSIndexingOptions', 'LinuxGuestFSIndexingOptions', 'SqlBackupOptions', 'WindowsCredentialsId', 'LinuxCredentialsId', 'FSFileExcludeOptions', 'OracleBackupOptions'].map((n) => text(n, undefined)));

/** `<ObjectInJob Type Href>`: ObjectInJobId, HierarchyObjRef, Name, DisplayName, GuestProcessingOptions (jobs_id_includes_id.md). */
export function objectInJobElement(base: string, j: JobView, o: JobObject, withLinks = false): WireElement {
  const href = `${base}/jobs/${j.id}/includes/${o.id}`;
  return el('ObjectInJob', [['Type', 'ObjectInJob'], ['Href', href]], [
    // Inside a Job entity EM writes `"Links": null` (resource_representation_for_ke.md); on its own the object links up to its job.
    withLinks ? links([{ rel: 'Up', type: 'JobReference', href: `${base}/jobs/${j.id}`, name: j.name }]) : text('Links', undefined),
    text('ObjectInJobId', o.id),
    text('HierarchyObjRef', o.ref),
    text('Name', o.name),
    text('DisplayName', o.name),
    noGuestProcessing(),
  ]);
}

/**
 * A Job entity's own elements (resource_representation_for_ke.md, XSD JobEntityType): an openem job has no
 * schedule (ScheduleConfigured false, so no NextRun and no JobScheduleOptions), no guest processing and no
 * storage options; its JobInfo is a BackupJobInfo whose Includes are its VMs.
 */
function jobChildren(base: string, j: JobView) {
  return [
    text('JobType', 'Backup'),
    text('Platform', j.platform && EM_PLATFORM[j.platform]),
    text('Description', `Backs up ${j.vmNames.join(', ')}`),
    text('ScheduleConfigured', false),
    text('ScheduleEnabled', false),
    text('NextRun', undefined),
    text('JobScheduleOptions', undefined),
    el('JobInfo', [], [
      el('BackupJobInfo', [], [
        el('Includes', [], [list(null, 'ObjectInJobs', j.objects.map((o) => objectInJobElement(base, j, o)))]),
        noGuestProcessing(),
        text('AdvancedStorageOptions', undefined),
        text('GfsRetentionPolicy', undefined),
        text('SimpleRetentionPolicy', undefined),
      ]),
      text('FileCopyJobInfo', undefined),
      text('ReplicaJobInfo', undefined),
      text('BackupCopyJobInfo', undefined),
      text('ImmediateBackupCopyJobInfo', undefined),
    ]),
  ];
}

/** Backup jobs (em-api.md §4 "/jobs"); `Start` runs one (`POST /jobs/{ID}?action=start`), `Stop` stops its run. */
export const jobKind: ResourceKind<JobView> = {
  type: 'Job',
  collection: '/jobs',
  entityList: 'Jobs',
  list: listVisibleJobs,
  find: findVisibleJob,
  id: (j) => j.id,
  name: (j) => j.name,
  // resource_representation_for_ke.md: Up backup server, Alternate, Down backup job sessions.
  refLinks: (base, j, ctx) => [
    serverLink(base, ctx),
    { rel: 'Alternate', type: 'Job', href: `${base}/jobs/${j.id}?format=Entity`, name: j.name },
    { rel: 'Down', type: 'BackupJobSessionReferenceList', href: `${base}/jobs/${j.id}/backupSessions` },
  ],
  // The same page's entity, keeping EM's order for the links openem serves (no Edit, Clone, schedule toggle, includes Create, Retry).
  entity: (base, j, ctx) => ({
    links: [
      serverLink(base, ctx),
      { rel: 'Alternate', type: 'JobReference', href: `${base}/jobs/${j.id}`, name: j.name },
      { rel: 'Down', type: 'ObjectInJobList', href: `${base}/jobs/${j.id}/includes` },
      { rel: 'Down', type: 'BackupJobSessionReferenceList', href: `${base}/jobs/${j.id}/backupSessions` },
      { rel: 'Start', href: `${base}/jobs/${j.id}?action=start` },
      { rel: 'Stop', href: `${base}/jobs/${j.id}?action=stop` },
    ],
    children: jobChildren(base, j),
  }),
  fields: (j) => ({ uid: `urn:veeam:Job:${j.id}`, name: j.name, jobtype: 'Backup', platform: j.platform && EM_PLATFORM[j.platform], description: `Backs up ${j.vmNames.join(', ')}`, scheduleconfigured: 'false', scheduleenabled: 'false' }),
};

/** One backup per job: the chain of its restore points (em-api.md §4 "/backups"). */
export const backupKind: ResourceKind<JobView> = {
  type: 'Backup',
  collection: '/backups',
  entityList: 'Backups',
  list: async (ctx, p) => {
    const withPoints = new Set((await visiblePoints(ctx, p)).map((r) => r.jobId));
    return Promise.all((await listJobs(ctx)).filter((j) => withPoints.has(j.id)).map((j) => jobView(ctx, j, p)));
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
    // get_backups_id.md: Platform from the VMs backed up, BackupType Standard (no agent parent/child backups here).
    children: [text('Platform', j.platform && EM_PLATFORM[j.platform]), text('BackupType', 'Standard')],
  }),
  fields: (j) => ({ uid: `urn:veeam:Backup:${j.id}`, name: j.name, platform: j.platform && EM_PLATFORM[j.platform], backuptype: 'Standard', jobname: j.name }),
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
