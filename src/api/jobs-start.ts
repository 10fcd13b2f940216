import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './api-context.js';
import { badRequest, forbidden, notFound } from '../errors.js';
import { isAdmin } from '../services/auth/access.js';
import { jobKind } from './inventory/backup-kinds.js';
import { claimJobVms, runJob } from '../services/backup/run-job.js';
import { apiBase, sendWire } from './negotiate.js';
import { taskElement } from './task-wire.js';
import { auditedRequest } from './audit-request.js';
import { requestJobStop } from '../services/backup-sessions/backup-session-store.js';

/** The lifetime key of a job's run on this node. */
const jobRunKey = (jobId: string) => `job ${jobId}`;

/**
 * `POST /jobs/{ID}?action=start` → 202 + Task `StartJob` (em-api.md §4 "/jobs"): the task finishes once the job
 * is triggered ("Job "X" triggered to start."); the backup goes on under its own lifetime, so removing the task
 * leaves it running (issue 9 §3). `POST /jobs/{ID}?action=stop` → 202 + Task `StopJob` (post_jobs_id_actionstop,
 * "Job "X" triggered to stop.") is what stops it.
 */
export function jobsStartPlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    app.post('/api/jobs/:id', { schema: { summary: 'Start (?action=start) or stop (?action=stop) a backup job' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const action = (request.query as Record<string, string | undefined>).action;
      if (action !== 'start' && action !== 'stop') throw badRequest(`Unsupported action '${action ?? ''}' for a job; supported: start, stop`);
      const p = request.principal!;
      if (!isAdmin(p)) throw forbidden(`Only a Portal Administrator may ${action} backup jobs`);
      const job = await jobKind.find(ctx, p, id);
      if (!job) throw notFound(`Job ${id} was not found`);
      const task = await auditedRequest(ctx, request, { what: `${action}-job`, target: job.name }, async () => {
        // A VM of the job that other work holds answers 409 naming that work, before any VM is backed up (issue 9 §4).
        const claims = action === 'start' ? await claimJobVms(ctx, job) : undefined;
        return action === 'start'
          ? await ctx.tasks.submit({ operation: 'StartJob', kind: 'backup', accountId: p.account.id, payload: { jobId: job.id } }, async (run) => {
              const lifetime = ctx.tasks.lifetimes.begin(jobRunKey(job.id), { startedBy: run.signal });
              try {
                const backup = runJob(ctx, job, { signal: lifetime.signal, claims });
                // Awaited below; a failure while the task finishes must not count as unhandled.
                backup.catch(() => undefined);
                await run.finishEarly(`Job "${job.name}" triggered to start.`);
                lifetime.detach();
                const results = await backup;
                return { message: `Job "${job.name}" finished: ${results.length} VM(s) backed up.` };
              } finally {
                lifetime.end();
              }
            }).catch(async (e) => {
              for (const c of claims!.values()) await c.release();
              throw e;
            })
          : await ctx.tasks.submit({ operation: 'StopJob', kind: 'backup-stop', accountId: p.account.id, payload: { jobId: job.id } }, async () => {
              const here = ctx.tasks.lifetimes.stop(jobRunKey(job.id), new Error(`job "${job.name}" was stopped (POST /jobs/${job.id}?action=stop)`));
              // Runs of this job in other processes (a CLI backup, another node) see the request at their heartbeat.
              const elsewhere = await requestJobStop(ctx, job.id);
              return { message: here || elsewhere ? `Job "${job.name}" triggered to stop.` : `Job "${job.name}" is not running.` };
            });
      }, (t) => ({ target: `${job.name} (${t.taskId})` }));
      return sendWire(request, reply, 202, taskElement(apiBase(request), task));
    });
  };
}
