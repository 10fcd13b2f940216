import type { AppContext } from '../app-services.js';
import type { TaskRunContext, TaskWork } from '../../tasks/task-types.js';
import { TASK_REMOVED } from '../../tasks/task-engine.js';
import type { WorkLifetime } from '../../tasks/work-lifetimes.js';
import type { VmClaim } from '../../tasks/vm-claims.js';
import { RestoreProgress } from './restore-progress.js';
import { restoreAsNewVm } from './restore-as-new-vm.js';
import { restoreIntoOriginalVm } from './restore-into-original-vm.js';
import type { RestoreRun } from './restore-run.js';
import type { VmRestoreRequest } from './vm-restore-request.js';
import { notFound } from '../../errors.js';

export interface VmRestoreJob {
  accountId: string;
  vmId: string;
  vmName: string;
  request: VmRestoreRequest;
  /** The VM, claimed when the request was accepted; released before the session says Stopped. */
  claim: VmClaim;
}

/** Why the work stopped, in words for FailureMessage. */
function stopReason(task: TaskRunContext, signal: AbortSignal, e: unknown): string {
  if (signal.aborted) {
    const why = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
    return why === TASK_REMOVED ? `Stopped: task ${task.taskId} was removed before the restore started` : `Interrupted: ${why}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * The task behind `POST /vmRestorePoints/{ID}?action=restore`. It creates the restore session, points the
 * task at it and finishes the task ("Ok", seed 003: the task ends once the session has started); the
 * restore goes on in the background, waiting for a slot with its session Starting, then Working with
 * Progress, Stopped with a Result. The session has its own lifetime: removing the finished task (DELETE
 * /tasks/{ID}, which a cloud-platform plugin does as soon as it reads Finished) leaves it running (issue 9 §3);
 * only the server stopping interrupts it — EM 13 has no request that stops a restore session (restoresessions_id: GET only).
 */
export function vmRestoreWork(ctx: AppContext, job: VmRestoreJob): TaskWork {
  return async (task) => {
    const scheduler = ctx.restoreScheduler;
    let releaseSlot: (() => Promise<void>) | undefined;
    let lifetime: WorkLifetime | undefined;
    // The VM and the slot are given back before the session says Stopped: a client that sees Stopped may restore again at once.
    const releaseAll = async () => {
      await releaseSlot?.();
      await job.claim.release();
    };
    try {
      const session = await ctx.restoreSessions.create({ jobType: 'RestoreVm', vmDisplayName: job.vmName, vmRestorePointId: job.request.vmRestorePointId, accountId: job.accountId });
      await job.claim.relabel(`restore session ${session.id}`);
      lifetime = ctx.tasks.lifetimes.begin(`restore session ${session.id}`, { startedBy: task.signal });
      // Should another node take the VM over (believing this one dead), this one stops writing.
      job.claim.lost.addEventListener('abort', () => ctx.tasks.lifetimes.stop(`restore session ${session.id}`, job.claim.lost.reason), { once: true });
      const signal = lifetime.signal;
      await task.setRelated({ kind: 'restoreSession', sessionId: session.id, jobType: 'RestoreVm' });
      await task.finishEarly('Ok');
      lifetime.detach();

      const progress = new RestoreProgress(ctx.clock, (percent) => ctx.restoreSessions.update(session.id, { progress: percent }));
      const run: RestoreRun = {
        ctx,
        sessionId: session.id,
        request: job.request,
        signal,
        progress,
        manifest: undefined as never,
        log: (text) => ctx.restoreSessions.log(session.id, text),
      };
      try {
        releaseSlot = await scheduler.acquireSlot(signal, () => run.log(`Waiting for a free restore slot (${ctx.config.maxRestores} restores run at once)`));
        await ctx.restoreSessions.update(session.id, { state: 'Working', log: `Restoring VM ${job.vmName} from restore point ${job.request.vmRestorePointId}` });
        const manifest = await ctx.repository.readManifest(job.request.vmRestorePointId);
        if (!manifest) throw notFound(`restore point ${job.request.vmRestorePointId} is no longer in the repository`);
        run.manifest = manifest;
        const summary = await restoreTo(run, job);
        await progress.stop();
        await releaseAll();
        await ctx.restoreSessions.finish(session.id, 'Success', summary);
      } catch (e) {
        await progress.stop();
        if (run.resumesAtStart) {
          // Issue #9 §6: the session stays Working and the VM marked; the next start of the server resumes it.
          await releaseAll();
          await run.log(`Interrupted: the openem server stopped while this restore was writing; VM ${job.vmName} stays marked restore incomplete and the restore resumes when the server starts again`);
          return { message: 'Ok' };
        }
        if (signal.aborted) await ctx.restoreSessions.update(session.id, { state: 'Stopping' });
        const reason = stopReason(task, signal, e);
        const after = run.originalPoweredOff
          ? run.writeStarted
            ? `; VM ${run.originalPoweredOff.vmName} is left powered off with its disks partly restored and marked restore incomplete — restore it again`
            : `; VM ${run.originalPoweredOff.vmName} is left powered off; its disks were not changed`
          : run.leftUnchanged
            ? `; VM ${run.leftUnchanged.vmName} is as it was: its disks were not changed`
            : job.request.target.kind === 'new-vm'
            ? `; no VM named ${job.request.target.name} was created`
            : '';
        ctx.log.warn({ err: e, session: session.id }, 'VM restore failed');
        await releaseAll();
        await ctx.restoreSessions.finish(session.id, 'Failed', `Restore failed: ${reason}${after}`, `${reason}${after}`);
      }
    } finally {
      await releaseAll();
      lifetime?.end();
    }
    return { message: 'Ok' };
  };
}

async function restoreTo(run: RestoreRun, job: VmRestoreJob): Promise<string> {
  const target = job.request.target;
  if (target.kind === 'new-vm') return restoreAsNewVm(run, target);
  const vm = await run.ctx.platform.findVm(job.vmId);
  // The original is gone: bring it back under its own name, built out of sight like a new VM.
  if (!vm) {
    await run.log(`VM ${job.vmName} no longer exists; restoring it as a new VM`);
    return restoreAsNewVm(run, { kind: 'new-vm', name: run.manifest.vmName, datastoreId: run.manifest.vm.datastoreId });
  }
  return restoreIntoOriginalVm(run, vm);
}
