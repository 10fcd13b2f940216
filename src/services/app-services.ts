import { join } from 'node:path';
import type { BaseContext } from '../context.js';
import type { Platform } from '../platform/platform.js';
import type { Repository } from '../repository/repository.js';
import { LocalPlatform } from '../platform/local/local-platform.js';
import { openRepository } from '../repository/open-repository.js';
import { TaskEngine } from '../tasks/task-engine.js';
import { RestoreSessionStore } from '../tasks/restore-session-store.js';
import { VmClaims } from '../tasks/vm-claims.js';
import { RestoreScheduler } from './restore-vm/restore-scheduler.js';
import { sessionsNamedByRestoreMarks } from '../platform/restore-incomplete-mark.js';
import { MountService } from './mounts/mount-service.js';
import { backupServerId } from './inventory/backup-server.js';
import { syncRestorePoints } from './backup/sync-restore-points.js';
import { prepareDemo } from './demo/prepare-demo.js';

/** The application context: the base parts plus platform, repository, tasks and restore sessions. */
export interface AppContext extends BaseContext {
  platform: Platform;
  /** The local platform, for operations only it offers (creating VMs from folders, demo data). */
  localPlatform: LocalPlatform;
  repository: Repository;
  tasks: TaskEngine;
  restoreSessions: RestoreSessionStore;
  /** Admission of VM restores on this node: restore slots. */
  restoreScheduler: RestoreScheduler;
  /** One piece of work per VM (backup, VM restore, QuickRollback, guest file restore), across processes and nodes. */
  vmClaims: VmClaims;
  /** FLR mounts of this server; absent in CLI commands, which must not touch a running server's mounts. */
  mounts?: MountService;
  /** Id of this deployment as Enterprise Manager's backup server. */
  backupServerId: string;
  /** Hooks run on shutdown (mounts unmount, workers stop). */
  onShutdown: (() => Promise<void>)[];
  shutdown(): Promise<void>;
}

/**
 * Builds the application context. `startTasks` (default true) is for the server: it fails work an unclean stop
 * left running and starts the mount service. CLI commands pass false: a server may be running on the same data.
 */
export async function attachServices(base: BaseContext, options: { demo: boolean; startTasks?: boolean }): Promise<AppContext> {
  const localPlatform = await LocalPlatform.open(base.config.dataDir);
  const repository = await openRepository(join(base.config.dataDir, 'repository'), { create: true });
  const ctx: AppContext = {
    ...base,
    platform: localPlatform,
    localPlatform,
    repository,
    tasks: new TaskEngine(base),
    restoreSessions: new RestoreSessionStore(base),
    restoreScheduler: new RestoreScheduler(() => base.config.maxRestores),
    vmClaims: new VmClaims(base),
    backupServerId: await backupServerId(base),
    onShutdown: [],
    shutdown: async () => {
      await ctx.tasks.stop();
      ctx.vmClaims.stop();
      for (const hook of ctx.onShutdown.reverse()) await hook().catch((e) => base.log.warn({ err: e }, 'shutdown hook failed'));
      await repository.close();
    },
  };
  if (options.startTasks !== false) {
    const failedTasks = await ctx.tasks.start();
    // Sessions a VM's restore-incomplete mark names are left to resumeInterruptedRestores (issue #9 §6).
    const failedSessions = await ctx.restoreSessions.recover('Interrupted: the openem server stopped while this restore was running (an interrupted in-place VM restore leaves the VM powered off)', {
      resuming: await sessionsNamedByRestoreMarks(localPlatform),
    });
    if (failedTasks || failedSessions.length) base.log.warn({ failedTasks, failedSessions }, 'marked work left running by an unclean stop as failed');
    ctx.mounts = await MountService.start(ctx);
  }
  await syncRestorePoints(ctx);
  if (options.demo) await prepareDemo(ctx);
  return ctx;
}
