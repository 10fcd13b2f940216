import type { BaseContext } from '../../context.js';
import { isStopRequested, updateJobSession } from './backup-session-store.js';

/** How often a run refreshes its heartbeat and progress and looks for a stop request. */
const HEARTBEAT_MS = 250;

export interface SessionHeartbeat {
  /** Ends the beats and waits for the last one. */
  stop(): Promise<void>;
}

/**
 * While a backup job session runs: writes its progress and heartbeat (so readers can tell a dead run from a live
 * one) and calls `onStopRequested` once `POST /backupSessions/{ID}?action=stop` has marked it — from any process.
 */
export function startSessionHeartbeat(ctx: BaseContext, sessionId: string, progress: () => number, onStopRequested: () => void): SessionHeartbeat {
  let beating: Promise<void> = Promise.resolve();
  let inFlight = false;
  let stopSeen = false;
  const beat = () => {
    // A slow store skips beats rather than queueing them.
    if (inFlight) return;
    inFlight = true;
    beating = beating
      .then(async () => {
        await updateJobSession(ctx, sessionId, { progress: progress() });
        if (!stopSeen && (await isStopRequested(ctx, sessionId))) {
          stopSeen = true;
          onStopRequested();
        }
      })
      .catch((e) => ctx.log.warn({ err: e, session: sessionId }, 'backup session heartbeat failed'))
      .finally(() => {
        inFlight = false;
      });
  };
  const timer = setInterval(beat, HEARTBEAT_MS);
  return {
    stop: async () => {
      clearInterval(timer);
      await beating;
    },
  };
}
