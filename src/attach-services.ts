import { openPlatforms } from './platform/open-platforms.js';
import { openRepository } from './repository/open-repository.js';
import { TaskEngine } from './tasks/task-engine.js';
import { RestoreSessionStore } from './tasks/restore-session-store.js';
import { VmClaims } from './tasks/vm-claims.js';
import { StateRepositoryLeases } from './tasks/repository-leases.js';
import { StateRepositoryCatalog } from './tasks/repository-catalog.js';
import { sessionsNamedByRestoreMarks } from './platform/restore-incomplete-mark.js';
import type { AppContext } from './services/app-services.js';
import type { AuthContext } from './services/auth/session-cache.js';
import { RestoreScheduler } from './services/restore-vm/restore-scheduler.js';
import { recoverLeftBehindSessions } from './services/restore-vm/resume-interrupted-restores.js';
import { MountService } from './services/mounts/mount-service.js';
import { backupServerId } from './services/inventory/backup-server.js';
import { syncRestorePoints } from './services/backup/sync-restore-points.js';
import { prepareDemo } from './services/demo/prepare-demo.js';
import { prepareKvmDemo } from './services/demo/prepare-kvm-demo.js';
import { LogonThrottle } from './services/auth/logon-throttle.js';
import { RefusalLimiter } from './services/audit/refusal-limiter.js';

/** How often a node refreshes its open restore sessions and looks for those a stopped node left (timeout 30 s). */
const SESSION_BEAT_MS = 5_000;

/** Which demo `serve --demo` prepares: the local demo VMs (true), or the KVM demo guests instead ('kvm'). */
export type DemoChoice = boolean | 'kvm';

/**
 * Builds the application context. `startTasks` (default true) is for the server: it fails work an unclean stop
 * left running and starts the mount service. CLI commands pass false: a server may be running on the same data.
 */
export async function attachServices(base: AuthContext, options: { demo: DemoChoice; startTasks?: boolean }): Promise<AppContext> {
  const platforms = await openPlatforms(base.config);
  const repositoryLeases = new StateRepositoryLeases(base);
  const repository = await openRepository(base.config.repositoryUrl, {
    create: true,
    leases: repositoryLeases,
    catalog: (key) => new StateRepositoryCatalog(base, key),
  });
  const ctx: AppContext = {
    ...base,
    platform: platforms,
    repository,
    tasks: new TaskEngine(base),
    restoreSessions: new RestoreSessionStore(base),
    restoreScheduler: RestoreScheduler.forContext(base),
    vmClaims: new VmClaims(base),
    backupServerId: await backupServerId(base),
    logonThrottle: new LogonThrottle(base),
    refusalLimiter: new RefusalLimiter(base.clock),
    onShutdown: [],
    shutdown: async () => {
      await ctx.tasks.stop();
      ctx.vmClaims.stop();
      ctx.restoreScheduler.stop();
      for (const hook of ctx.onShutdown.reverse()) await hook().catch((e) => base.log.warn({ err: e }, 'shutdown hook failed'));
      await repository.close();
      repositoryLeases.stop();
    },
  };
  if (options.startTasks !== false) {
    const failedTasks = await ctx.tasks.start();
    // Sessions a VM's restore-incomplete mark names are left to resumeInterruptedRestores (issue #9 §6).
    const failedSessions = await ctx.restoreSessions.recover('Interrupted: the openem server stopped while this restore was running (an interrupted in-place VM restore leaves the VM powered off)', {
      resuming: await sessionsNamedByRestoreMarks(platforms),
    });
    if (failedTasks || failedSessions.length) base.log.warn({ failedTasks, failedSessions }, 'marked work left running by an unclean stop as failed');
    ctx.mounts = await MountService.start(ctx);
    // This node's open restore sessions beat; sessions of a node that stopped beating are taken over (issue #14).
    const sessionRounds = setInterval(() => {
      void ctx.restoreSessions
        .beat()
        .then(() => recoverLeftBehindSessions(ctx))
        .catch((e) => base.log.warn({ err: e }, 'restore session heartbeat failed'));
    }, SESSION_BEAT_MS);
    sessionRounds.unref();
    ctx.onShutdown.push(async () => clearInterval(sessionRounds));
  }
  await syncRestorePoints(ctx);
  if (options.demo === 'kvm') await prepareKvmDemo(ctx);
  else if (options.demo) await prepareDemo(ctx);
  return ctx;
}
