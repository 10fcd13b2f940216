import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './api-context.js';
import { badRequest, forbidden, notFound } from '../errors.js';
import { isAdmin } from '../services/auth/access.js';
import { jobKind } from './inventory/backup-kinds.js';
import { runJob } from '../services/backup/run-job.js';
import { apiBase, sendWire } from './negotiate.js';
import { taskElement } from './task-wire.js';
import { recordAudit } from '../services/audit/audit-trail.js';

/**
 * `POST /jobs/{ID}?action=start` → 202 + Task `StartJob` (em-api.md §4 "/jobs"): the task finishes once the job
 * is triggered ("Job "X" triggered to start."); the backup goes on and cancelling the task stops it.
 */
export function jobsStartPlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    app.post('/api/jobs/:id', { schema: { summary: 'Start a backup job (?action=start)' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const action = (request.query as Record<string, string | undefined>).action;
      if (action !== 'start') throw badRequest(`Unsupported action '${action ?? ''}' for a job; supported: start`);
      const p = request.principal!;
      if (!isAdmin(p)) throw forbidden('Only a Portal Administrator may start backup jobs');
      const job = await jobKind.find(ctx, p, id);
      if (!job) throw notFound(`Job ${id} was not found`);
      const task = await ctx.tasks.submit({ operation: 'StartJob', kind: 'backup', accountId: p.account.id, payload: { jobId: job.id } }, async (run) => {
        const backup = runJob(ctx, job, { signal: run.signal });
        await run.finishEarly(`Job "${job.name}" triggered to start.`);
        const results = await backup;
        return { message: `Job "${job.name}" finished: ${results.length} VM(s) backed up.` };
      });
      await recordAudit(ctx, { who: p.account.name, what: 'start-job', target: `${job.name} (${task.taskId})`, result: 'success', address: request.ip });
      return sendWire(request, reply, 202, taskElement(apiBase(request), task));
    });
  };
}
