import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { badRequest, forbidden, notFound } from '../../errors.js';
import { isAdmin } from '../../services/auth/access.js';
import { requestStop } from '../../services/backup-sessions/backup-session-store.js';
import { auditedRequest } from '../audit-request.js';
import { jobKind } from '../inventory/backup-kinds.js';
import { sendItems } from '../inventory/collections.js';
import { apiBase, sendWire } from '../negotiate.js';
import { taskElement } from '../task-wire.js';
import { backupJobSessionKind, backupTaskSessionKind, findVisibleJobSession, jobSessionName, visibleJobSessions, visibleTaskSessions } from './backup-session-kinds.js';

/**
 * The nested session collections and the stop request: `GET /backupSessions/{ID}/taskSessions`,
 * `GET /jobs/{ID}/backupSessions`, `POST /backupSessions/{ID}?action=stop` → 202 + Task `StopJobSession`
 * ("Job Session "X" triggered to stop.", post_backupsessions_id_stop.md).
 */
export function backupSessionsPlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    app.get('/api/backupSessions/:id/taskSessions', { schema: { summary: 'Task sessions (one per VM) of a backup job session' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const session = await findVisibleJobSession(ctx, request.principal!, id);
      if (!session) throw notFound(`BackupJobSession ${id} was not found`);
      return sendItems(ctx, request, reply, backupTaskSessionKind, await visibleTaskSessions(ctx, request.principal!, { jobSessionId: session.id }));
    });

    app.get('/api/jobs/:id/backupSessions', { schema: { summary: 'Backup job sessions of one job' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const job = await jobKind.find(ctx, request.principal!, id);
      if (!job) throw notFound(`Job ${id} was not found`);
      return sendItems(ctx, request, reply, backupJobSessionKind, await visibleJobSessions(ctx, request.principal!, { jobId: job.id }));
    });

    app.post('/api/backupSessions/:id', { schema: { summary: 'Stop a running backup job session (?action=stop)' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const action = (request.query as Record<string, string | undefined>).action;
      if (action !== 'stop') throw badRequest(`Unsupported action '${action ?? ''}' for a backup job session; supported: stop`);
      const p = request.principal!;
      if (!isAdmin(p)) throw forbidden('Only a Portal Administrator may stop backup job sessions');
      const session = await findVisibleJobSession(ctx, p, id);
      if (!session) throw notFound(`BackupJobSession ${id} was not found`);
      const task = await auditedRequest(
        ctx, request, { what: 'stop-backup-session', target: jobSessionName(session) },
        () => ctx.tasks.submit({ operation: 'StopJobSession', kind: 'backup-session-stop', accountId: p.account.id, payload: { backupSessionId: session.id } }, async () => {
          if (!(await requestStop(ctx, session.id))) throw badRequest(`Job Session "${jobSessionName(session)}" is not running.`);
          return { message: `Job Session "${jobSessionName(session)}" triggered to stop.` };
        }),
        (t) => ({ target: `${jobSessionName(session)} (${t.taskId})` }),
      );
      return sendWire(request, reply, 202, taskElement(apiBase(request), task));
    });
  };
}
