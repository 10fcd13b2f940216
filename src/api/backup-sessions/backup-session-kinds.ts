import { hostname } from 'node:os';
import { text, type Link } from '../wire/wire-node.js';
import type { ResourceKind } from '../inventory/resource-kind.js';
import { jobKind } from '../inventory/backup-kinds.js';
import { isoUtc as isoUtcMs } from '../inventory/em-dates.js';
import { isAdmin } from '../../services/auth/access.js';
import type { ApiContext } from '../api-context.js';
import type { Principal } from '../../services/auth/logon-sessions.js';
import { findJobSession, listJobSessions, listTaskSessions } from '../../services/backup-sessions/backup-session-store.js';
import type { BackupJobSessionRecord, BackupTaskSessionRecord } from '../../services/backup-sessions/backup-session-types.js';
import { emTimestamp } from '../inventory/em-dates.js';

/** EM writes session times in whole seconds (backupsessions_id.md: `2014-10-19T05:22:52Z`). */
const isoUtc = (ms: number) => isoUtcMs(Math.floor(ms / 1000) * 1000);

const serverLink = (base: string, ctx: ApiContext): Link => ({ rel: 'Up', type: 'BackupServerReference', href: `${base}/backupServers/${ctx.backupServerId}`, name: hostname() });

/** Jobs whose sessions the caller sees (undefined: all, for a Portal Administrator). */
async function visibleJobIds(ctx: ApiContext, p: Principal): Promise<Set<string> | undefined> {
  if (isAdmin(p)) return undefined;
  return new Set((await jobKind.list(ctx, p)).map((j) => j.id));
}

/** Sessions of jobs the caller sees; a direct URL to another's answers 403 through the job (issue #6). */
export async function visibleJobSessions(ctx: ApiContext, p: Principal, filter: { jobId?: string } = {}): Promise<BackupJobSessionRecord[]> {
  const visible = await visibleJobIds(ctx, p);
  return withLivePoints(ctx, (await listJobSessions(ctx, filter)).filter((s) => !visible || visible.has(s.jobId)));
}

export async function findVisibleJobSession(ctx: ApiContext, p: Principal, id: string): Promise<BackupJobSessionRecord | undefined> {
  const s = await findJobSession(ctx, id);
  if (s && !isAdmin(p)) await jobKind.find(ctx, p, s.jobId);
  return s && (await withLivePoints(ctx, [s]))[0];
}

/** A run's restore point stays linked while it exists (retention may have removed it since). */
async function withLivePoints(ctx: ApiContext, sessions: BackupJobSessionRecord[]): Promise<BackupJobSessionRecord[]> {
  const ids = sessions.flatMap((s) => (s.restorePointId ? [s.restorePointId] : []));
  if (ids.length === 0) return sessions;
  const live = new Set((await ctx.store.db.selectFrom('restore_points').select('id').where('id', 'in', ids).execute()).map((r) => r.id));
  return sessions.map((s) => (s.restorePointId && !live.has(s.restorePointId) ? { ...s, restorePointId: undefined } : s));
}

/** A task session with the name of the VM restore point it made (its `Related VmRestorePoint` link). */
export interface TaskSessionItem extends BackupTaskSessionRecord {
  vmRestorePointName?: string;
}

export async function visibleTaskSessions(ctx: ApiContext, p: Principal, filter: { jobSessionId?: string; id?: string } = {}): Promise<TaskSessionItem[]> {
  const visible = await visibleJobIds(ctx, p);
  const tasks = (await listTaskSessions(ctx, filter)).filter((t) => !visible || visible.has(t.jobId));
  const pointIds = tasks.flatMap((t) => (t.vmRestorePointId ? [t.vmRestorePointId] : []));
  const points = pointIds.length
    ? await ctx.store.db.selectFrom('vm_restore_points').select(['id', 'vm_name', 'created_at']).where('id', 'in', pointIds).execute()
    : [];
  const names = new Map(points.map((r) => [r.id, `${r.vm_name}@${emTimestamp(Number(r.created_at))}`]));
  // A point removed since (`openem repo forget`) is no longer linked: its link would lead to a 404.
  return tasks.map((t) => {
    const name = t.vmRestorePointId ? names.get(t.vmRestorePointId) : undefined;
    return { ...t, vmRestorePointId: name ? t.vmRestorePointId : undefined, vmRestorePointName: name };
  });
}

/** EM's name of a run, `job@yyyy-MM-dd HH:mm:ss` (get_backupsessions_id.md), and of one VM's task, `vm@…` from when its processing started. */
export const jobSessionName = (s: { jobName: string; createdAt: number }) => `${s.jobName}@${emTimestamp(s.createdAt)}`;
export const taskSessionName = (t: { vmName: string; createdAt: number }) => `${t.vmName}@${emTimestamp(t.createdAt)}`;

/**
 * A backup job run (backupsessions_id.md example): Links Up backup server, Up job, Alternate, Down task sessions,
 * Stop, Related restore point (once the run made one); then JobUid … Progress, FailureMessage (only when the run
 * failed: the page's successful example has none; JSON null), IsRetry.
 */
export const backupJobSessionKind: ResourceKind<BackupJobSessionRecord> = {
  type: 'BackupJobSession',
  collection: '/backupSessions',
  entityList: 'BackupJobSessions',
  list: (ctx, p) => visibleJobSessions(ctx, p),
  find: findVisibleJobSession,
  id: (s) => s.id,
  name: (s) => jobSessionName(s),
  refLinks: (base, _s, ctx) => [serverLink(base, ctx)],
  entity: (base, s, ctx) => {
    const href = `${base}/backupSessions/${s.id}`;
    const l: Link[] = [
      serverLink(base, ctx),
      { rel: 'Up', type: 'JobReference', href: `${base}/jobs/${s.jobId}`, name: s.jobName },
      { rel: 'Alternate', type: 'BackupJobSessionReference', href, name: jobSessionName(s) },
      { rel: 'Down', type: 'BackupTaskSessionReferenceList', href: `${href}/taskSessions` },
      { rel: 'Stop', href: `${href}?action=stop` },
    ];
    if (s.restorePointId) l.push({ rel: 'Related', type: 'RestorePointReference', href: `${base}/restorePoints/${s.restorePointId}` });
    return {
      links: l,
      children: [
        text('JobUid', `urn:veeam:Job:${s.jobId}`),
        text('JobName', s.jobName),
        text('JobType', s.jobType),
        text('CreationTimeUTC', isoUtc(s.createdAt)),
        text('EndTimeUTC', s.endAt !== undefined ? isoUtc(s.endAt) : undefined),
        text('State', s.state),
        text('Result', s.result),
        text('Progress', s.progress),
        text('FailureMessage', s.failureMessage),
        text('IsRetry', false),
      ],
    };
  },
  // get_query_backupjobsession.md
  fields: (s) => ({
    uid: `urn:veeam:BackupJobSession:${s.id}`,
    name: jobSessionName(s),
    jobtype: s.jobType,
    jobuid: `urn:veeam:Job:${s.jobId}`,
    jobname: s.jobName,
    creationtime: s.createdAt,
    endtime: s.endAt,
    state: s.state,
    result: s.result,
    isretry: 'false',
    backupserveruid: undefined,
    backupservername: hostname(),
  }),
};

/**
 * One VM of a run (backuptasksessions_id.md example): Links Up backup server, Up job session, Alternate, Related
 * VmRestorePoint (once made); then JobSessionUid, CreationTimeUTC, EndTimeUTC, State, Result, Reason, TotalSize.
 */
export const backupTaskSessionKind: ResourceKind<TaskSessionItem> = {
  type: 'BackupTaskSession',
  collection: '/backupTaskSessions',
  entityList: 'BackupTaskSessions',
  list: (ctx, p) => visibleTaskSessions(ctx, p),
  find: async (ctx, p, id) => {
    const [t] = await listTaskSessions(ctx, { id });
    if (!t) return undefined;
    if (!isAdmin(p)) await jobKind.find(ctx, p, t.jobId);
    return (await visibleTaskSessions(ctx, p, { id }))[0];
  },
  id: (t) => t.id,
  name: (t) => taskSessionName(t),
  refLinks: (base, _t, ctx) => [serverLink(base, ctx)],
  entity: (base, t, ctx) => {
    const l: Link[] = [
      serverLink(base, ctx),
      { rel: 'Up', type: 'BackupJobSessionReference', href: `${base}/backupSessions/${t.jobSessionId}`, name: jobSessionName({ jobName: t.jobName, createdAt: t.jobSessionCreatedAt }) },
      { rel: 'Alternate', type: 'BackupTaskSessionReference', href: `${base}/backupTaskSessions/${t.id}`, name: taskSessionName(t) },
    ];
    if (t.vmRestorePointId) l.push({ rel: 'Related', type: 'VmRestorePoint', href: `${base}/vmRestorePoints/${t.vmRestorePointId}?format=Entity`, name: t.vmRestorePointName });
    return {
      attrs: [['VmDisplayName', t.vmName]],
      links: l,
      children: [
        text('JobSessionUid', `urn:veeam:BackupJobSession:${t.jobSessionId}`),
        text('CreationTimeUTC', isoUtc(t.createdAt)),
        text('EndTimeUTC', t.endAt !== undefined ? isoUtc(t.endAt) : undefined),
        text('State', t.state),
        text('Result', t.result),
        text('Reason', t.reason),
        text('TotalSize', t.totalSize),
      ],
    };
  },
  // get_query_backuptasksession.md
  fields: (t) => ({
    uid: `urn:veeam:BackupTaskSession:${t.id}`,
    name: taskSessionName(t),
    creationtime: t.createdAt,
    endtime: t.endAt,
    state: t.state,
    result: t.result,
    reason: t.reason,
    totalsize: t.totalSize,
    jobsessionuid: `urn:veeam:BackupJobSession:${t.jobSessionId}`,
    jobuid: `urn:veeam:Job:${t.jobId}`,
    jobname: t.jobName,
    backupserveruid: undefined,
    backupservername: hostname(),
    vmdisplayname: t.vmName,
  }),
};
