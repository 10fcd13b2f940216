import type { AppContext } from '../app-services.js';
import type { RestoreIncompleteMark } from '../../platform/platform.js';
import type { RestorePointManifest } from '../../repository/repository.js';
import type { VmRestoreRequest } from './vm-restore-request.js';
import type { RestoreProgress } from './restore-progress.js';

/** One restore as it runs: what the in-place and new-VM flows are handed. */
export interface RestoreRun {
  ctx: AppContext;
  sessionId: string;
  manifest: RestorePointManifest;
  request: VmRestoreRequest;
  signal: AbortSignal;
  progress: RestoreProgress;
  log(text: string): Promise<void>;
  /** Set once the original VM has been powered off: a failure from then on leaves it off, and says so. */
  originalPoweredOff?: { vmName: string };
  /** Set just before the first write into the original VM's disks: from then on a failure leaves them partly restored. */
  writeStarted?: boolean;
  /** The mark of the interrupted restore this run resumes (issue #9 §6); it keeps that restore's request and start. */
  resumedFrom?: RestoreIncompleteMark;
  /** Set when a failure (or a stop) came before any disk changed, and the VM was put back as it was: mark gone, power as before. */
  leftUnchanged?: { vmName: string };
  /** Set when the server stopped it after writing began: the session stays open and the next start resumes it. */
  resumesAtStart?: boolean;
}
