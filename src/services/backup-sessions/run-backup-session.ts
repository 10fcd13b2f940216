import { randomUUID } from 'node:crypto';
import type { AppContext } from '../app-services.js';
import type { JobRecord } from '../backup/jobs.js';
import { backupVm, type BackupResult } from '../backup/backup-vm.js';
import type { BackupProgress } from '../../repository/repository.js';
import {
  createJobSession,
  failPendingTasks,
  finishJobSession,
  finishTaskSession,
  isStopRequested,
  startTaskSession,
  updateJobSession,
} from './backup-session-store.js';
import type { BackupJobSessionRecord } from './backup-session-types.js';
import type { VmClaim } from '../../tasks/vm-claims.js';

/** How often a run refreshes its heartbeat and progress and looks for a stop request. */
const HEARTBEAT_MS = 250;

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

/**
 * One run of a backup job, recorded as a BackupJobSession with a BackupTaskSession per VM (backupsessions_id.md,
 * backuptasksessions_id.md): Starting, Working with Progress over the VMs' disks, Stopped with a Result. A VM that
 * fails does not stop the others; the run is then Failed. A stop request (`POST /backupSessions/{ID}?action=stop`,
 * from any process) reaches the run through its heartbeat and aborts the VM being backed up.
 */
export async function runBackupSession(ctx: AppContext, job: JobRecord, options: BackupSessionOptions): Promise<BackupSessionOutcome> {
  const vmNames = options.vmNames ?? job.vmNames;
  const vms = await Promise.all(vmNames.map(async (name) => ({ name, totalSize: await provisionedSize(ctx, name) })));
  const session = await createJobSession(ctx, { jobId: job.id, jobName: job.name, vms, owner: options.owner });
  options.onSession?.(session);
  const controller = new AbortController();
  const follow = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) follow();
  else options.signal?.addEventListener('abort', follow, { once: true });

  const grandTotal = Math.max(1, vms.reduce((n, v) => n + v.totalSize, 0));
  let doneBefore = 0;
  const diskDone = new Map<string, number>();
  const current = () => [...diskDone.values()].reduce((n, b) => n + b, 0);
  let beating: Promise<void> = Promise.resolve();
  const beat = () => {
    beating = beating.then(async () => {
      await updateJobSession(ctx, session.id, { progress: (100 * (doneBefore + current())) / grandTotal });
      if (!controller.signal.aborted && (await isStopRequested(ctx, session.id))) {
        controller.abort(new Error(`Stopped: POST /backupSessions/${session.id}?action=stop`));
      }
    }).catch((e) => ctx.log.warn({ err: e, session: session.id }, 'backup session heartbeat failed'));
  };
  const timer = setInterval(beat, HEARTBEAT_MS);

  const results: BackupResult[] = [];
  const failures: BackupSessionOutcome['failures'] = [];
  const restorePointId = randomUUID();
  try {
    await updateJobSession(ctx, session.id, { state: 'Working' });
    for (const [position, vm] of vms.entries()) {
      if (controller.signal.aborted) break;
      const taskId = await startTaskSession(ctx, session.id, position);
      diskDone.clear();
      const live = options.claims ? await ctx.platform.findVm(vm.name) : undefined;
      const claim = live ? options.claims?.get(live.id) : undefined;
      try {
        const r = await backupVm(ctx, vm.name, {
          jobId: job.id,
          restorePointId,
          claim,
          holder: options.holder,
          waitMs: options.waitMs,
          signal: controller.signal,
          onProgress: (p) => {
            diskDone.set(p.diskName, p.bytesDone);
            options.onProgress?.(p);
          },
        });
        results.push(r);
        await updateJobSession(ctx, session.id, { restorePointId: r.manifest.restorePointId });
        await finishTaskSession(ctx, taskId, { result: 'Success', reason: '', bytesRead: r.stats.bytesRead, bytesStored: r.stats.bytesStored, vmRestorePointId: r.manifest.id });
        options.onVmFinished?.(vm.name, { result: r });
      } catch (e) {
        failures.push({ vmName: vm.name, error: e });
        await finishTaskSession(ctx, taskId, { result: 'Failed', reason: reasonOf(controller.signal, e), bytesRead: current(), bytesStored: 0 });
        options.onVmFinished?.(vm.name, { error: e });
      } finally {
        await claim?.release();
      }
      doneBefore += vm.totalSize;
    }
  } finally {
    for (const c of options.claims?.values() ?? []) await c.release();
    clearInterval(timer);
    options.signal?.removeEventListener('abort', follow);
    await beating;
    const stopped = controller.signal.aborted ? reasonOf(controller.signal, undefined) : undefined;
    if (stopped) await failPendingTasks(ctx, session.id, stopped);
    const failure = stopped ?? (failures.length > 0 ? failures.map((f) => `${f.vmName}: ${reasonOf(controller.signal, f.error)}`).join('; ') : undefined);
    await finishJobSession(ctx, session.id, failure ? 'Failed' : 'Success', failure);
  }
  return { session, results, failures };
}
