import type { AppContext } from '../app-services.js';
import type { RestorePointManifest } from '../../repository/repository.js';
import { listJobSessions, listTaskSessions } from '../backup-sessions/backup-session-store.js';
import { backupFileFigures } from './backup-file-figures.js';

const DAY_MS = 86_400_000;

/** Counts of the backup infrastructure and of VMs by the result of their latest backup (EM's overview report). */
export interface OverviewFigures {
  backupServers: number;
  proxyServers: number;
  repositoryServers: number;
  runningJobs: number;
  scheduledJobs: number;
  successfulVms: number;
  warningVms: number;
  failedVms: number;
}

export interface VmsOverviewFigures {
  protectedVms: number;
  backedUpVms: number;
  replicatedVms: number;
  restorePoints: number;
  fullBackupPointsSize: number;
  incrementalBackupPointsSize: number;
  replicaRestorePointsSize: number;
  sourceVmsSize: number;
  successBackupPercents: number;
}

export interface JobStatisticsFigures {
  runningJobs: number;
  scheduledJobs: number;
  scheduledBackupJobs: number;
  scheduledReplicaJobs: number;
  totalJobRuns: number;
  successfulJobRuns: number;
  warningsJobRuns: number;
  failedJobRuns: number;
  /** Seconds. */
  maxJobDuration: number;
  maxBackupJobDuration: number;
  maxReplicaJobDuration: number;
  maxDurationBackupJobName: string;
  maxDurationReplicaJobName: string;
}

export interface ProcessedDay {
  /** Midnight UTC of the day. */
  day: number;
  backedUpVms: number;
  replicatedVms: number;
}

/** Latest finished backup result per VM, from the task sessions. */
async function latestVmResults(ctx: AppContext): Promise<Map<string, string>> {
  const latest = new Map<string, { at: number; result: string }>();
  for (const t of await listTaskSessions(ctx)) {
    if (t.state !== 'Completed' || t.endAt === undefined) continue;
    const cur = latest.get(t.vmName);
    if (!cur || t.endAt > cur.at) latest.set(t.vmName, { at: t.endAt, result: t.result });
  }
  return new Map([...latest].map(([vm, v]) => [vm, v.result]));
}

async function runningJobCount(ctx: AppContext): Promise<number> {
  return new Set((await listJobSessions(ctx)).filter((s) => s.state !== 'Stopped').map((s) => s.jobId)).size;
}

/**
 * openem is one server that is its own backup proxy and repository server; it has no job schedules, so nothing
 * is scheduled. VM states are each VM's latest finished backup task session.
 */
export async function overviewFigures(ctx: AppContext): Promise<OverviewFigures> {
  const results = [...(await latestVmResults(ctx)).values()];
  return {
    backupServers: 1,
    proxyServers: 1,
    repositoryServers: 1,
    runningJobs: await runningJobCount(ctx),
    scheduledJobs: 0,
    successfulVms: results.filter((r) => r === 'Success').length,
    warningVms: results.filter((r) => r === 'Warning').length,
    failedVms: results.filter((r) => r === 'Failed').length,
  };
}

async function allManifests(ctx: AppContext): Promise<RestorePointManifest[]> {
  const out: RestorePointManifest[] = [];
  for (const s of await ctx.repository.listManifests()) {
    const m = await ctx.repository.readManifest(s.id);
    if (m) out.push(m);
  }
  return out;
}

/**
 * From the repository's manifests: protected VMs (those with a restore point), VM restore points, the backup
 * size of Full and of Increment points (backup-file-figures.ts), and the provisioned size of each protected VM
 * at its newest point. SuccessBackupPercents: the share of VMs whose latest backup succeeded.
 */
export async function vmsOverviewFigures(ctx: AppContext): Promise<VmsOverviewFigures> {
  const manifests = await allManifests(ctx);
  const byId = new Map(manifests.map((m) => [m.id, m]));
  let full = 0;
  let incremental = 0;
  const newest = new Map<string, RestorePointManifest>();
  for (const m of manifests) {
    const f = await backupFileFigures(ctx.repository, m, m.parentId ? byId.get(m.parentId) : undefined);
    if (m.pointType === 'Full') full += f.backupSize;
    else incremental += f.backupSize;
    const cur = newest.get(m.vmId);
    if (!cur || m.createdAt > cur.createdAt) newest.set(m.vmId, m);
  }
  const results = [...(await latestVmResults(ctx)).values()];
  return {
    protectedVms: newest.size,
    backedUpVms: newest.size,
    replicatedVms: 0,
    restorePoints: manifests.length,
    fullBackupPointsSize: full,
    incrementalBackupPointsSize: incremental,
    replicaRestorePointsSize: 0,
    sourceVmsSize: [...newest.values()].reduce((n, m) => n + m.disks.reduce((k, d) => k + d.size, 0), 0),
    successBackupPercents: results.length ? Math.round((100 * results.filter((r) => r === 'Success').length) / results.length) : 0,
  };
}

/** Job runs by result and the longest finished run, from the backup job sessions; openem has no replica jobs. */
export async function jobStatisticsFigures(ctx: AppContext): Promise<JobStatisticsFigures> {
  const sessions = await listJobSessions(ctx);
  let longest = { ms: -1, seconds: 0, name: '' };
  for (const s of sessions) {
    if (s.endAt === undefined || s.endAt - s.createdAt <= longest.ms) continue;
    longest = { ms: s.endAt - s.createdAt, seconds: Math.round((s.endAt - s.createdAt) / 1000), name: s.jobName };
  }
  return {
    runningJobs: new Set(sessions.filter((s) => s.state !== 'Stopped').map((s) => s.jobId)).size,
    scheduledJobs: 0,
    scheduledBackupJobs: 0,
    scheduledReplicaJobs: 0,
    totalJobRuns: sessions.length,
    successfulJobRuns: sessions.filter((s) => s.result === 'Success').length,
    warningsJobRuns: sessions.filter((s) => s.result === 'Warning').length,
    failedJobRuns: sessions.filter((s) => s.result === 'Failed').length,
    maxJobDuration: longest.seconds,
    maxBackupJobDuration: longest.seconds,
    maxReplicaJobDuration: 0,
    maxDurationBackupJobName: longest.name,
    maxDurationReplicaJobName: '',
  };
}

/** VMs that got a restore point on each of the last `days` UTC days, oldest first, today last. */
export async function processedVmsFigures(ctx: AppContext, days = 7): Promise<ProcessedDay[]> {
  const today = Math.floor(ctx.clock.now() / DAY_MS) * DAY_MS;
  const out: ProcessedDay[] = [];
  const points = await ctx.repository.listManifests();
  for (let i = days - 1; i >= 0; i--) {
    const day = today - i * DAY_MS;
    const vms = new Set(points.filter((p) => Date.parse(p.createdAt) >= day && Date.parse(p.createdAt) < day + DAY_MS).map((p) => p.vmId));
    out.push({ day, backedUpVms: vms.size, replicatedVms: 0 });
  }
  return out;
}
