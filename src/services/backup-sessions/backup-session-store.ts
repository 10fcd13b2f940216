import { randomUUID } from 'node:crypto';
import type { BaseContext } from '../../context.js';
import type { BackupJobSessionsTable, BackupTaskSessionsTable } from '../../state/schema.js';
import type { BackupJobSessionRecord, BackupTaskSessionRecord } from './backup-session-types.js';

/** A run whose process has not refreshed its heartbeat for this long has died (a killed CLI backup, a crashed server). */
export const STALE_MS = 30_000;

function toJobSession(r: BackupJobSessionsTable): BackupJobSessionRecord {
  return {
    id: r.id,
    jobId: r.job_id,
    jobName: r.job_name,
    jobType: 'Backup',
    state: r.state as BackupJobSessionRecord['state'],
    result: r.result as BackupJobSessionRecord['result'],
    progress: Number(r.progress),
    failureMessage: r.failure_message ?? undefined,
    restorePointId: r.restore_point_id ?? undefined,
    stopRequested: Number(r.stop_requested) === 1,
    createdAt: Number(r.created_at),
    endAt: r.end_at === null ? undefined : Number(r.end_at),
  };
}

function toTaskSession(r: BackupTaskSessionsTable, job: { created_at: number; job_id: string; job_name: string }): BackupTaskSessionRecord {
  return {
    id: r.id,
    jobSessionId: r.job_session_id,
    jobSessionCreatedAt: Number(job.created_at),
    jobId: job.job_id,
    jobName: job.job_name,
    vmName: r.vm_name,
    state: r.state as BackupTaskSessionRecord['state'],
    result: r.result as BackupTaskSessionRecord['result'],
    reason: r.reason,
    totalSize: Number(r.total_size),
    bytesRead: Number(r.bytes_read),
    bytesStored: Number(r.bytes_stored),
    vmRestorePointId: r.vm_restore_point_id ?? undefined,
    createdAt: Number(r.created_at),
    endAt: r.end_at === null ? undefined : Number(r.end_at),
  };
}

/** Records a run Starting, with one Pending task session per VM in the order they will be backed up. */
export async function createJobSession(
  ctx: BaseContext,
  input: { jobId: string; jobName: string; vms: { name: string; totalSize: number }[]; owner: string },
): Promise<BackupJobSessionRecord> {
  const now = ctx.clock.now();
  const row: BackupJobSessionsTable = {
    id: randomUUID(),
    // The run's subject; its EM name (`job@yyyy-MM-dd HH:mm:ss`) is written by the API from the job and the start time.
    name: input.jobName,
    job_id: input.jobId,
    job_name: input.jobName,
    job_type: 'Backup',
    state: 'Starting',
    result: 'None',
    progress: 0,
    failure_message: null,
    restore_point_id: null,
    stop_requested: 0,
    owner: input.owner,
    heartbeat_at: now,
    created_at: now,
    end_at: null,
  };
  await ctx.store.db.transaction().execute(async (trx) => {
    await trx.insertInto('backup_job_sessions').values(row).execute();
    for (const [position, vm] of input.vms.entries()) {
      await trx
        .insertInto('backup_task_sessions')
        .values({
          id: randomUUID(),
          job_session_id: row.id,
          name: vm.name,
          vm_name: vm.name,
          state: 'Pending',
          result: 'None',
          reason: '',
          total_size: vm.totalSize,
          bytes_read: 0,
          bytes_stored: 0,
          vm_restore_point_id: null,
          position,
          created_at: now,
          end_at: null,
        })
        .execute();
    }
  });
  return toJobSession(row);
}

/** Progress, state and the created restore point of a running run; refreshes its heartbeat. */
export async function updateJobSession(
  ctx: BaseContext,
  id: string,
  changes: { state?: 'Working'; progress?: number; restorePointId?: string } = {},
): Promise<void> {
  const set: Partial<BackupJobSessionsTable> = { heartbeat_at: ctx.clock.now() };
  if (changes.progress !== undefined) set.progress = Math.max(0, Math.min(100, Math.floor(changes.progress)));
  if (changes.restorePointId) set.restore_point_id = changes.restorePointId;
  await ctx.store.db.updateTable('backup_job_sessions').set(set).where('id', '=', id).where('state', '!=', 'Stopped').execute();
  // A stop request has made it Stopping; the runner must not turn it back to Working.
  if (changes.state) await ctx.store.db.updateTable('backup_job_sessions').set({ state: changes.state }).where('id', '=', id).where('state', '=', 'Starting').execute();
}

export async function finishJobSession(ctx: BaseContext, id: string, result: 'Success' | 'Warning' | 'Failed', failureMessage?: string): Promise<void> {
  const now = ctx.clock.now();
  const set: Partial<BackupJobSessionsTable> = { state: 'Stopped', result, end_at: now, heartbeat_at: now, failure_message: failureMessage ?? null };
  if (result === 'Success') set.progress = 100;
  await ctx.store.db.updateTable('backup_job_sessions').set(set).where('id', '=', id).execute();
}

export async function startTaskSession(ctx: BaseContext, jobSessionId: string, position: number): Promise<string> {
  const now = ctx.clock.now();
  const row = await ctx.store.db.selectFrom('backup_task_sessions').select(['id', 'vm_name']).where('job_session_id', '=', jobSessionId).where('position', '=', position).executeTakeFirstOrThrow();
  // The task's creation time is when the VM's processing started, which its EM name carries (`srv04@2014-10-19 05:23:44`).
  await ctx.store.db.updateTable('backup_task_sessions').set({ state: 'InProgress', created_at: now }).where('id', '=', row.id).execute();
  return row.id;
}

export async function finishTaskSession(
  ctx: BaseContext,
  id: string,
  outcome: { result: 'Success' | 'Warning' | 'Failed'; reason: string; bytesRead: number; bytesStored: number; vmRestorePointId?: string },
): Promise<void> {
  await ctx.store.db
    .updateTable('backup_task_sessions')
    .set({
      state: 'Completed',
      result: outcome.result,
      reason: outcome.reason,
      bytes_read: outcome.bytesRead,
      bytes_stored: outcome.bytesStored,
      vm_restore_point_id: outcome.vmRestorePointId ?? null,
      end_at: ctx.clock.now(),
    })
    .where('id', '=', id)
    .execute();
}

/** Task sessions a run never reached (it was stopped or failed before them) end Failed with the reason. */
export async function failPendingTasks(ctx: BaseContext, jobSessionId: string, reason: string): Promise<void> {
  await ctx.store.db
    .updateTable('backup_task_sessions')
    .set({ state: 'Completed', result: 'Failed', reason, end_at: ctx.clock.now() })
    .where('job_session_id', '=', jobSessionId)
    .where('state', '!=', 'Completed')
    .execute();
}

/**
 * `POST /backupSessions/{ID}?action=stop`: marks the run Stopping; the process running it (this server or a CLI
 * backup) sees the request at its next heartbeat and aborts. False when the run has already stopped.
 */
export async function requestStop(ctx: BaseContext, id: string): Promise<boolean> {
  const r = await ctx.store.db.updateTable('backup_job_sessions').set({ stop_requested: 1, state: 'Stopping' }).where('id', '=', id).where('state', '!=', 'Stopped').executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** `POST /jobs/{ID}?action=stop`: asks every running session of the job to stop; false when none runs. */
export async function requestJobStop(ctx: BaseContext, jobId: string): Promise<boolean> {
  const r = await ctx.store.db.updateTable('backup_job_sessions').set({ stop_requested: 1, state: 'Stopping' }).where('job_id', '=', jobId).where('state', '!=', 'Stopped').executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function isStopRequested(ctx: BaseContext, id: string): Promise<boolean> {
  const r = await ctx.store.db.selectFrom('backup_job_sessions').select('stop_requested').where('id', '=', id).executeTakeFirst();
  return Number(r?.stop_requested ?? 0) === 1;
}

/** Runs whose process died without ending them end Failed, so no session stays Working forever. */
async function failStaleSessions(ctx: BaseContext): Promise<void> {
  const now = ctx.clock.now();
  const stale = await ctx.store.db.selectFrom('backup_job_sessions').select(['id', 'heartbeat_at']).where('state', '!=', 'Stopped').where('heartbeat_at', '<', now - STALE_MS).execute();
  for (const s of stale) {
    const reason = `Interrupted: the process running this backup stopped (last heartbeat ${new Date(Number(s.heartbeat_at)).toISOString()})`;
    await failPendingTasks(ctx, s.id, reason);
    await finishJobSession(ctx, s.id, 'Failed', reason);
  }
}

export async function listJobSessions(ctx: BaseContext, filter: { jobId?: string } = {}): Promise<BackupJobSessionRecord[]> {
  await failStaleSessions(ctx);
  let q = ctx.store.db.selectFrom('backup_job_sessions').selectAll();
  if (filter.jobId) q = q.where('job_id', '=', filter.jobId);
  return (await q.orderBy('created_at', 'desc').orderBy('id').execute()).map(toJobSession);
}

export async function findJobSession(ctx: BaseContext, id: string): Promise<BackupJobSessionRecord | undefined> {
  await failStaleSessions(ctx);
  const r = await ctx.store.db.selectFrom('backup_job_sessions').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
  return r ? toJobSession(r) : undefined;
}

export async function listTaskSessions(ctx: BaseContext, filter: { jobSessionId?: string; id?: string } = {}): Promise<BackupTaskSessionRecord[]> {
  await failStaleSessions(ctx);
  let q = ctx.store.db
    .selectFrom('backup_task_sessions as t')
    .innerJoin('backup_job_sessions as j', 'j.id', 't.job_session_id')
    .selectAll('t')
    .select(['j.created_at as job_session_created_at', 'j.job_id as job_id', 'j.job_name as job_name']);
  if (filter.jobSessionId) q = q.where('t.job_session_id', '=', filter.jobSessionId);
  if (filter.id) q = q.where('t.id', '=', filter.id.toLowerCase());
  const rows = await q.orderBy('j.created_at', 'desc').orderBy('t.position').execute();
  return rows.map((r) => toTaskSession(r, { created_at: Number(r.job_session_created_at), job_id: r.job_id, job_name: r.job_name }));
}
