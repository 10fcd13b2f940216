import type { PlatformRegistry } from '../platform/platform-registry.js';
import type { Repository } from '../repository/repository.js';
import type { TaskEngine } from '../tasks/task-engine.js';
import type { RestoreSessionStore } from '../tasks/restore-session-store.js';
import type { VmClaims } from '../tasks/vm-claims.js';
import type { RestoreScheduler } from './restore-vm/restore-scheduler.js';
import type { FlrMounts } from './mounts/mount-types.js';
import type { LogonThrottle } from './auth/logon-throttle.js';
import type { RefusalLimiter } from './audit/refusal-limiter.js';
import type { AuthContext } from './auth/session-cache.js';

/**
 * The application context the use cases run in: the base parts plus platform, repository, tasks and restore
 * sessions. Only types live here; src/attach-services.ts builds it (the composition root, above api/ and
 * services/), so that no service imports the code that imports every service.
 */
export interface AppContext extends AuthContext {
  /**
   * Every platform of the configuration (`platforms`): the inventory is theirs together, and each VM-addressed
   * call goes to the platform the VM lives on.
   */
  platform: PlatformRegistry;
  repository: Repository;
  tasks: TaskEngine;
  restoreSessions: RestoreSessionStore;
  /** Admission of VM restores on this node: restore slots. */
  restoreScheduler: RestoreScheduler;
  /** One piece of work per VM (backup, VM restore, QuickRollback, guest file restore), across processes and nodes. */
  vmClaims: VmClaims;
  /** FLR mounts of this server; absent in CLI commands, which must not touch a running server's mounts. */
  mounts?: FlrMounts;
  /** Id of this deployment as Enterprise Manager's backup server. */
  backupServerId: string;
  /** Failed logons counted by this process (logon-throttle.ts). */
  logonThrottle: LogonThrottle;
  /** How many 401/403 refusals per address this process still records this minute (refusal-limiter.ts). */
  refusalLimiter: RefusalLimiter;
  /** Hooks run on shutdown (mounts unmount, workers stop). */
  onShutdown: (() => Promise<void>)[];
  shutdown(): Promise<void>;
}
