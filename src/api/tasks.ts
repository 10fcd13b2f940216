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

    // "To stop the task execution, send the DELETE /task/{ID} request" (seed 001): stops the work the task started.
    app.delete('/api/tasks/:id', { schema: { summary: 'Stop the work a task started' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const t = await visibleTask(ctx, request, id);
      await ctx.tasks.cancel(t.taskId);
      return reply.code(204).send();
    });
  };
}
