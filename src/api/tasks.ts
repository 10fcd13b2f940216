import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../errors.js';
import { isAdmin } from '../services/auth/access.js';
import type { TaskRecord } from '../tasks/task-types.js';
import type { ApiContext } from './api-context.js';
import { apiBase, sendWire } from './negotiate.js';
import { taskElement } from './task-wire.js';
import { el, list } from './wire/wire-node.js';

/** Another account's task answers 404 to a non-administrator: its existence is not theirs to learn. */
async function visibleTask(ctx: ApiContext, request: FastifyRequest, taskId: string): Promise<TaskRecord> {
  const t = await ctx.tasks.get(taskId);
  const p = request.principal!;
  if (!t || (!isAdmin(p) && t.accountId !== p.account.id)) throw notFound(`Task ${taskId} was not found`);
  return t;
}

/** `GET /tasks`, `GET /tasks/{ID}`, `DELETE /tasks/{ID}` (em-api.md §4 tasks; seeds 001 and 003). */
export function tasksPlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    app.get('/api/tasks', { schema: { summary: 'Tasks of the calling account (all for a Portal Administrator)' } }, async (request, reply) => {
      const p = request.principal!;
      const tasks = await ctx.tasks.list(isAdmin(p) ? undefined : p.account.id);
      const base = apiBase(request);
      return sendWire(request, reply, 200, el('Tasks', [], [list(null, 'Tasks', tasks.map((t) => taskElement(base, t)))]));
    });

    app.get('/api/tasks/:id', { schema: { summary: 'One task: poll it until State is Finished' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      return sendWire(request, reply, 200, taskElement(apiBase(request), await visibleTask(ctx, request, id)));
    });

    // delete_task_id: "Removes a task having the specified ID", 204. "To stop the task execution" (seed 001) stops
    // the task's own work when it still runs; a restore session or job run it started is not the task's (issue 9 §3).
    app.delete('/api/tasks/:id', { schema: { summary: 'Remove a task (a task still running has its own work stopped)' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const t = await visibleTask(ctx, request, id);
      await ctx.tasks.remove(t.taskId);
      return reply.code(204).send();
    });
  };
}
