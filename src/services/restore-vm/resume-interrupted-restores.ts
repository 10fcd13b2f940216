import type { AppContext } from '../app-services.js';
import type { RestoreIncompleteMark, VmConfig } from '../../platform/platform.js';
import type { RestoreSessionRecord } from '../../tasks/task-types.js';
import { RestoreProgress } from './restore-progress.js';
import { restoreIntoOriginalVm } from './restore-into-original-vm.js';
import type { RestoreRun } from './restore-run.js';
import type { VmClaim } from '../../tasks/vm-claims.js';
import { notFound } from '../../errors.js';
import { putBackPermissionJournal } from '../guest-restore/permissions-journal.js';

/** How long a resumed restore waits for other work on its VM (a CLI backup started before the server) to end. */
const RESUME_CLAIM_WAIT_MS = 10 * 60_000;

/** An in-place restore that a stop of the server cut off after it began writing. */
export interface InterruptedRestore {
  vm: VmConfig;
  mark: RestoreIncompleteMark;
  session: RestoreSessionRecord;
}

/**
 * At start, before open sessions are failed: the VMs marked restore incomplete (`writing`) whose session is
 * still open are restores to resume. A `writing` mark whose session has stopped becomes `failed` (it stopped
 * on an error, or an older server failed it); an abandoned restore's open session is failed saying so.
 */
export async function findInterruptedRestores(ctx: AppContext): Promise<InterruptedRestore[]> {
  const found: InterruptedRestore[] = [];
  for (const vm of await ctx.platform.listVms()) {
    const mark = vm.restoreIncomplete;
    if (!mark) continue;
    const session = await ctx.restoreSessions.get(mark.sessionId);
    const open = session !== undefined && session.state !== 'Stopped';
    if (mark.state === 'writing' && open) found.push({ vm, mark, session });
    else if (mark.state === 'writing') {
      const reason = session ? `restore session ${session.id} stopped (${session.result}) after writing began` : `restore session ${mark.sessionId} is no longer recorded`;
      await ctx.platform.markRestoreIncomplete(vm.id, { ...mark, state: 'failed', reason });
    } else if (mark.state === 'abandoned' && open) {
      const text = `Abandoned by operator (${mark.reason ?? 'openem vm restore-abandon'}); VM ${vm.name} stays marked restore incomplete, disk content undefined`;
      await ctx.restoreSessions.finish(session.id, 'Failed', text, text);
    }
  }
  return found;
}

/**
 * At server start, after `attachServices`: resumes every in-place restore a stop cut off mid-write, each in
 * its own session, in the background; shutdown waits for them.
 */
export async function resumeInterruptedRestores(ctx: AppContext): Promise<void> {
  for (const r of await findInterruptedRestores(ctx)) {
    // On shared datastores the VM may be marked because a node running beside this one is writing it right now:
    // only a restore whose VM claim is gone (its holder dead on this host, or silent past the timeout) is this
    // start's to resume; a live holder's stays its own (and goes to the heartbeat takeover should it die).
    if (!(await ctx.vmClaims.isFree(r.vm.id))) continue;
    // A node running beside this one may be taking the same session over (its node died): one of them resumes it.
    if (!(await ctx.restoreSessions.takeOver(r.session.id))) continue;
    ctx.log.warn({ vm: r.vm.name, session: r.session.id }, 'resuming an in-place VM restore interrupted by a server stop');
    const resumed = resumeInterruptedRestore(ctx, r);
    ctx.onShutdown.push(() => resumed);
  }
}

/**
 * Resumes an interrupted restore in the same restore session, so a client still polling the session it was
 * given sees it go on to Stopped (EM 13 has only Starting, Working, Stopping, Stopped: restoresessions_id).
 * The QuickRollback comparison makes this cheap: only blocks that still differ from the restore point are
 * fetched and written. Runs in the background; the returned promise settles when the session has ended.
 */
export function resumeInterruptedRestore(ctx: AppContext, { vm, mark, session }: InterruptedRestore, by: 'start' | 'takeover' = 'start'): Promise<void> {
  const lifetime = ctx.tasks.lifetimes.begin(`restore session ${session.id}`);
  const progress = new RestoreProgress(ctx.clock, (percent) => ctx.restoreSessions.update(session.id, { progress: percent }), session.progress);
  const run: RestoreRun = {
    ctx,
    sessionId: session.id,
    request: { vmRestorePointId: mark.vmRestorePointId, powerOnAfterRestore: mark.request.powerOnAfterRestore, quickRollback: true, target: { kind: 'original' } },
    resumedFrom: mark,
    signal: lifetime.signal,
    progress,
    manifest: undefined as never,
    log: (text) => ctx.restoreSessions.log(session.id, text),
  };
  let releaseSlot: (() => Promise<void>) | undefined;
  let claim: VmClaim | undefined;
  const releaseAll = async () => {
    await releaseSlot?.();
    await claim?.release();
  };
  const work = async () => {
    // A node taking the session over has already said why (NODE_LOST) and that it resumes here.
    if (by === 'start') {
      await run.log(
        `Interrupted: the openem server stopped while this restore was writing VM ${vm.name}. Resuming at server start: ` +
          'the disks are compared with the restore point and only the blocks that still differ are written',
      );
    }
    try {
      // The dead server's claim on the VM (same host, dead pid) is taken over; a CLI backup started meanwhile is waited for.
      claim = await ctx.vmClaims.claim(vm, 'vm-restore', `restore session ${session.id} (resumed after a server stop)`, { waitMs: RESUME_CLAIM_WAIT_MS, signal: run.signal });
      // Should another node take the VM over (believing this one dead), this one stops writing.
      claim.lost.addEventListener('abort', () => ctx.tasks.lifetimes.stop(`restore session ${session.id}`, claim!.lost.reason), { once: true });
      releaseSlot = await ctx.restoreScheduler.acquireSlot(run.signal);
      await ctx.restoreSessions.update(session.id, { state: 'Working' });
      const manifest = await ctx.repository.readManifest(mark.vmRestorePointId);
      if (!manifest) throw notFound(`restore point ${mark.vmRestorePointId} is no longer in the repository`);
      run.manifest = manifest;
      const current = (await ctx.platform.findVm(vm.id)) ?? vm;
      const summary = await restoreIntoOriginalVm(run, current);
      await progress.stop();
      await releaseAll();
      await ctx.restoreSessions.finish(session.id, 'Success', `Resumed after the interruption: ${summary}`);
    } catch (e) {
      await progress.stop();
      await releaseAll();
      if (run.resumesAtStart) {
        await run.log(`Interrupted again: the openem server stopped; the restore resumes when it starts again`);
        return;
      }
      // A lost claim (another node took the VM over) fails the resumed restore too, saying so.
      const why = run.signal.aborted ? run.signal.reason : e;
      const reason = why instanceof Error ? why.message : String(why);
      ctx.log.warn({ err: e, session: session.id }, 'resumed VM restore failed');
      // A failure before the resumed restore wrote anything leaves the earlier writes: the mark says so.
      const now = (await ctx.platform.findVm(vm.id))?.restoreIncomplete;
      if (now?.sessionId === session.id && now.state === 'writing') await ctx.platform.markRestoreIncomplete(vm.id, { ...now, state: 'failed', reason });
      const text = `${reason}; VM ${vm.name} is left powered off with its disks partly restored and marked restore incomplete — restore it again`;
      await ctx.restoreSessions.finish(session.id, 'Failed', `Resumed restore failed: ${text}`, text);
    }
  };
  return work()
    .catch((e) => ctx.log.error({ err: e, session: session.id }, 'resuming a VM restore failed'))
    .finally(async () => {
      await releaseAll().catch((e) => ctx.log.warn({ err: e, session: session.id }, 'could not release the VM claim'));
      lifetime.end();
    });
}

/** Failure text of a restore whose node stopped beating while it ran (on a node that is still running). */
export const NODE_LOST = 'Interrupted: the openem node running this restore stopped (its heartbeat ended)';

/**
 * On every running node, every few seconds: restore sessions left open by a node that stopped beating (died) are
 * taken over, one node each — an in-place restore that had begun writing (its VM marked `writing` on the shared
 * datastores) is resumed here as a restart would resume it, any other is failed, as a restart of a single server
 * fails it (issue #14: a node that dies mid-work has its work failed or resumed by another node).
 */
export async function recoverLeftBehindSessions(ctx: AppContext): Promise<void> {
  const left = await ctx.restoreSessions.leftBehind();
  if (left.length === 0) return;
  const marked = new Map<string, VmConfig>();
  for (const vm of await ctx.platform.listVms()) if (vm.restoreIncomplete) marked.set(vm.restoreIncomplete.sessionId, vm);
  for (const { id, nodeId } of left) {
    if (!(await ctx.restoreSessions.takeOver(id, nodeId))) continue;
    const vm = marked.get(id);
    const session = await ctx.restoreSessions.get(id);
    if (!session) continue;
    if (vm?.restoreIncomplete?.state === 'writing') {
      ctx.log.warn({ vm: vm.name, session: id, node: nodeId }, 'resuming an in-place VM restore whose node stopped');
      await ctx.restoreSessions.log(id, `${NODE_LOST}. Resuming on this node: the disks are compared with the restore point and only the blocks that still differ are written`);
      const resumed = resumeInterruptedRestore(ctx, { vm, mark: vm.restoreIncomplete, session }, 'takeover');
      ctx.onShutdown.push(() => resumed);
    } else {
      ctx.log.warn({ session: id, node: nodeId }, 'failing a restore session whose node stopped');
      await ctx.restoreSessions.finish(id, 'Failed', NODE_LOST, NODE_LOST);
      // A PermissionsOnly restore's journal: the descriptors it had replaced go back, in the background (the VM's
      // claim may take a while to be free), as a start would put them back.
      const putBack = putBackPermissionJournal(ctx, id, `${NODE_LOST}; this node took its work over`).catch((e) => ctx.log.error({ err: e, session: id }, 'putting back an interrupted PermissionsOnly restore failed'));
      ctx.onShutdown.push(() => putBack);
    }
  }
}
