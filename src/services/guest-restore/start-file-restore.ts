import type { AppContext } from '../app-services.js';
import { conflict, isOpenemError } from '../../errors.js';
import { describeRestoreMark } from '../../platform/restore-incomplete-mark.js';
import type { TaskRecord, TaskWork } from '../../tasks/task-types.js';
import type { VmClaim } from '../../tasks/vm-claims.js';
import type { VmRestorePointRecord } from '../inventory/restore-point-records.js';
import type { GuestVolume } from '../../guestfs/guest-volumes.js';
import { restoreGuestPath } from './restore-guest-path.js';

export interface FileRestoreRequest {
  rp: VmRestorePointRecord;
  /** The guest path as the request names it (`/etc/hosts`, `C:/Users`), for the task and the session's log. */
  guestPath: string;
  overwrite: boolean;
  /** Only the security descriptors of the existing item (and of what is below it): NTFS guests only. */
  permissionsOnly?: boolean;
  accountId: string;
  /**
   * The volume to read from and the path in it: a mount's (borrowed, left open) or one this restore opens and
   * closes (catalog restore, no mount needed).
   */
  source: () => Promise<{ volume: GuestVolume; path: string; close(): Promise<void> }>;
}

/** Seed 000's task message once the restore session has started. */
export const RESTORE_STARTED = 'Restore operations started successfully.';

/**
 * Starts a guest file restore as EM does (seed 000): a task (Operation RestoreFile) that finishes as soon as
 * its restore session (JobType FileLevelRestore) is running, with a Related link to that session; the session
 * then reports Progress and ends Stopped with Success or Failed and the reason.
 */
export async function startFileRestore(ctx: AppContext, req: FileRestoreRequest): Promise<TaskRecord> {
  // The live VM is written: it is claimed before the 202, so other work on it gets 409 (issue 9 §4).
  const claim = await ctx.vmClaims.claim({ id: req.rp.vmId, name: req.rp.vmName }, 'guest-file-restore', 'a guest file restore starting now');
  // A VM whose disks a VM restore left half-written is not written into file by file (issue 9 §6).
  const live = await ctx.platform.findVm(req.rp.vmId).catch(async (e) => {
    await claim.release();
    throw e;
  });
  if (live?.restoreIncomplete) {
    await claim.release();
    throw conflict(`cannot restore files into it: ${describeRestoreMark(live.name, live.restoreIncomplete)}`);
  }
  return ctx.tasks.submit(
    { operation: 'RestoreFile', kind: 'restore-file', accountId: req.accountId, payload: { vmRestorePointId: req.rp.id, path: req.guestPath, overwrite: req.overwrite, ...(req.permissionsOnly ? { permissionsOnly: true } : {}) } },
    releasingClaim(claim, async (run) => {
      const session = await ctx.restoreSessions.create({ jobType: 'FileLevelRestore', vmDisplayName: req.rp.vmName, vmRestorePointId: req.rp.id, accountId: req.accountId });
      await claim.relabel(`restore session ${session.id}`);
      // The session lives on its own: removing the finished task does not stop it (issue 9 §3).
      const lifetime = ctx.tasks.lifetimes.begin(`restore session ${session.id}`, { startedBy: run.signal });
      claim.lost.addEventListener('abort', () => ctx.tasks.lifetimes.stop(`restore session ${session.id}`, claim.lost.reason), { once: true });
      const signal = lifetime.signal;
      await run.setRelated({ kind: 'restoreSession', sessionId: session.id, jobType: 'FileLevelRestore' });
      await ctx.restoreSessions.update(session.id, { state: 'Working', log: `Restoring ${req.permissionsOnly ? `the permissions of ${req.guestPath}` : req.guestPath} from ${req.rp.vmName} restore point ${req.rp.id}` });
      await run.finishEarly(RESTORE_STARTED);
      lifetime.detach();
      let lastPercent = -1;
      // Progress and log lines are written in order (each rewrites the session row), before the final state.
      let writes = Promise.resolve();
      const record = (f: () => Promise<void>) => void (writes = writes.then(f).catch((e) => ctx.log.warn({ err: e }, 'could not record restore progress')));
      try {
        const source = await req.source();
        try {
          const r = await restoreGuestPath(ctx, {
            volume: source.volume,
            vmId: req.rp.vmId,
            guestPath: source.path,
            overwrite: req.overwrite,
            permissionsOnly: req.permissionsOnly === true,
            sessionId: session.id,
            signal,
            onProgress: (p) => {
              const percent = Math.floor(p);
              if (percent === lastPercent) return;
              lastPercent = percent;
              record(() => ctx.restoreSessions.update(session.id, { progress: percent }));
            },
            log: (text) => record(() => ctx.restoreSessions.log(session.id, text)),
          });
          await writes;
          await claim.release();
          await ctx.restoreSessions.finish(session.id, 'Success', r.summary ?? `Restored ${r.written} item(s) to ${r.target}`);
        } finally {
          await source.close();
        }
      } catch (e) {
        const message = signal.aborted ? `Interrupted: ${signal.reason instanceof Error ? signal.reason.message : String(signal.reason)}` : e instanceof Error ? e.message : String(e);
        await writes;
        if (!isOpenemError(e)) ctx.log.error({ err: e, session: session.id }, 'file restore failed');
        await claim.release();
        await ctx.restoreSessions.finish(session.id, 'Failed', `Restore failed: ${message}`, message);
      } finally {
        lifetime.end();
      }
      return { message: RESTORE_STARTED };
    }),
  ).catch(async (e) => {
    await claim.release();
    throw e;
  });
}

/** The VM goes back when the work ends, however it ends (the session's end releases it earlier). */
function releasingClaim(claim: VmClaim, work: TaskWork): TaskWork {
  return (run) => work(run).finally(() => claim.release());
}
