import { randomUUID } from 'node:crypto';
import type { AppContext } from '../app-services.js';
import type { JobRecord } from '../backup/jobs.js';
import { backupVm, type BackupResult } from '../backup/backup-vm.js';
import type { BackupProgress } from '../../repository/repository.js';
import { createJobSession, failPendingTasks, finishJobSession, finishTaskSession, startTaskSession, updateJobSession } from './backup-session-store.js';
import { startSessionHeartbeat } from './session-heartbeat.js';
import type { BackupJobSessionRecord } from './backup-session-types.js';
import type { VmClaim } from '../../tasks/vm-claims.js';

export interface BackupSessionOptions {
  /** The VMs of this run (default: the job's). */
  vmNames?: string[];
  /** Aborts the run from outside (a stopped job, a stopping server). */
  signal?: AbortSignal;
  /** Who runs it: `server <node>` or `cli <pid>`. */
  owner: string;
  onSession?: (session: BackupJobSessionRecord) => void;
  onProgress?: (p: BackupProgress & { vmName: string }) => void;
  onVmFinished?: (vmName: string, outcome: { result?: BackupResult; error?: unknown }) => void;
  /** VMs claimed before the run (issue 9 §4), each released when its backup ends; the others are claimed as they come. */
  claims?: Map<string, VmClaim>;
  /** What the VM claims name as holder, and how long a VM's backup waits for other work on it. */
  holder?: string;
  waitMs?: number;
}

export interface BackupSessionOutcome {
  session: BackupJobSessionRecord;
  results: BackupResult[];
  failures: { vmName: string; error: unknown }[];
}

async function provisionedSize(ctx: AppContext, vmName: string): Promise<number> {
  const vm = await ctx.platform.findVm(vmName);
  return vm ? vm.disks.reduce((n, d) => n + d.size, 0) : 0;
}

function reasonOf(signal: AbortSignal, e: unknown): string {
  if (signal.aborted) return signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
  return e instanceof Error ? e.message : String(e);
}

/** What one run keeps while it goes through its VMs. */
interface RunState {
  job: JobRecord;
  sessionId: string;
  restorePointId: string;
  signal: AbortSignal;
  options: BackupSessionOptions;
  /** Bytes of the current VM's disks done, by disk. */
  diskDone: Map<string, number>;
  results: BackupResult[];
  failures: BackupSessionOutcome['failures'];
  /** VMs whose backup succeeded with a warning. */
  warnings: string[];
}

const bytesDone = (run: RunState) => [...run.diskDone.values()].reduce((n, b) => n + b, 0);

/** Backs one VM of the run up as its task session: InProgress, then Completed with the result and sizes. */
async function runTask(ctx: AppContext, run: RunState, position: number, vmName: string): Promise<void> {
  const taskId = await startTaskSession(ctx, run.sessionId, position);
  run.diskDone.clear();
  const { options } = run;
  const live = options.claims ? await ctx.platform.findVm(vmName) : undefined;
  const claim = live ? options.claims?.get(live.id) : undefined;
  try {
    const r = await backupVm(ctx, vmName, {
      jobId: run.job.id,
      restorePointId: run.restorePointId,
      claim,
      holder: options.holder,
      waitMs: options.waitMs,
      signal: run.signal,
      onProgress: (p) => {
        run.diskDone.set(p.diskName, p.bytesDone);
        run.options.onProgress?.(p);
      },
    });
    run.results.push(r);
    await updateJobSession(ctx, run.sessionId, { restorePointId: r.manifest.restorePointId });
    // The Reason says what the sizes do not: a CBT chain broken (a full read) and how a running VM was read.
    const warned = r.notes.some((n) => n.warning);
    if (warned) run.warnings.push(vmName);
    await finishTaskSession(ctx, taskId, {
      result: warned ? 'Warning' : 'Success',
      reason: r.notes.map((n) => n.text).join('; '),
      bytesRead: r.stats.bytesRead,
      bytesStored: r.stats.bytesStored,
      vmRestorePointId: r.manifest.id,
    });
    run.options.onVmFinished?.(vmName, { result: r });
  } catch (e) {
    run.failures.push({ vmName, error: e });
    await finishTaskSession(ctx, taskId, { result: 'Failed', reason: reasonOf(run.signal, e), bytesRead: bytesDone(run), bytesStored: 0 });
    run.options.onVmFinished?.(vmName, { error: e });
  } finally {
    await claim?.release();
  }
}

/**
 * One run of a backup job, recorded as a BackupJobSession with a BackupTaskSession per VM (backupsessions_id.md,
 * backuptasksessions_id.md): Starting, Working with Progress over the VMs' disks, Stopped with a Result. A VM that
 * fails does not stop the others; the run is then Failed. A stop request (`POST /backupSessions/{ID}?action=stop`,
 * from any process) reaches the run through its heartbeat and aborts the VM being backed up.
 */
export async function runBackupSession(ctx: AppContext, job: JobRecord, options: BackupSessionOptions): Promise<BackupSessionOutcome> {
  const vms = await Promise.all((options.vmNames ?? job.vmNames).map(async (name) => ({ name, totalSize: await provisionedSize(ctx, name) })));
  const session = await createJobSession(ctx, { jobId: job.id, jobName: job.name, vms, owner: options.owner });
  options.onSession?.(session);
  const controller = new AbortController();
  const follow = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) follow();
  else options.signal?.addEventListener('abort', follow, { once: true });
  const run: RunState = { job, sessionId: session.id, restorePointId: randomUUID(), signal: controller.signal, options, diskDone: new Map(), results: [], failures: [], warnings: [] };

  const grandTotal = Math.max(1, vms.reduce((n, v) => n + v.totalSize, 0));
  let doneBefore = 0;
  const heartbeat = startSessionHeartbeat(ctx, session.id, () => (100 * (doneBefore + bytesDone(run))) / grandTotal, () =>
    controller.abort(new Error(`Stopped: POST /backupSessions/${session.id}?action=stop`)),
  );
  try {
    await updateJobSession(ctx, session.id, { state: 'Working' });
    for (const [position, vm] of vms.entries()) {
      if (controller.signal.aborted) break;
      await runTask(ctx, run, position, vm.name);
      doneBefore += vm.totalSize;
    }
  } finally {
    for (const c of options.claims?.values() ?? []) await c.release();
    options.signal?.removeEventListener('abort', follow);
    await heartbeat.stop();
    const stopped = controller.signal.aborted ? reasonOf(controller.signal, undefined) : undefined;
    if (stopped) await failPendingTasks(ctx, session.id, stopped);
    const failure = stopped ?? (run.failures.length > 0 ? run.failures.map((f) => `${f.vmName}: ${reasonOf(controller.signal, f.error)}`).join('; ') : undefined);
    await finishJobSession(ctx, session.id, failure ? 'Failed' : run.warnings.length > 0 ? 'Warning' : 'Success', failure);
  }
  return { session, results: run.results, failures: run.failures };
}
