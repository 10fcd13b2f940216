import type { AppContext } from '../app-services.js';
import type { TaskRecord } from '../../tasks/task-types.js';

/**
 * `FileRestoreSpec` ForDirectDownload (em-api.md "FLR mounts"): the task does no copying; it finishes at once and
 * points at the file or folder of the mount, which the API links for download. The bytes are streamed from the
 * mount when the client follows it.
 */
export function startDirectDownload(ctx: AppContext, input: { accountId: string; vmRestorePointId: string; mountNumber: number; guestPath: string }): Promise<TaskRecord> {
  return ctx.tasks.submit(
    { operation: 'RestoreFile', kind: 'restore-file', accountId: input.accountId, payload: { vmRestorePointId: input.vmRestorePointId, mountNumber: input.mountNumber, download: input.guestPath } },
    async (run) => {
      await run.setRelated({ kind: 'download', vmRestorePointId: input.vmRestorePointId, mountNumber: input.mountNumber, guestPath: input.guestPath });
      return { message: 'Ok' };
    },
  );
}
