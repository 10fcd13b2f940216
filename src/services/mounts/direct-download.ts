import type { AppContext } from '../app-services.js';
import type { TaskRecord } from '../../tasks/task-types.js';

/**
 * `FileRestoreSpec` ForDirectDownload (em-api.md "FLR mounts"): the task does no copying; it finishes at once and
 * points at where the client downloads the file or folder (`downloadPath`, relative to `/api`). The bytes are
 * streamed from the mount when the client follows it.
 */
export function startDirectDownload(ctx: AppContext, input: { accountId: string; vmRestorePointId: string; downloadPath: string; name: string }): Promise<TaskRecord> {
  return ctx.tasks.submit(
    { operation: 'RestoreFile', kind: 'restore-file', accountId: input.accountId, payload: { vmRestorePointId: input.vmRestorePointId, download: input.downloadPath } },
    async (run) => {
      await run.setRelated({ type: 'Download', path: input.downloadPath, name: input.name });
      return { message: 'Ok' };
    },
  );
}
