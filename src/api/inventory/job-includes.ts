import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { notFound } from '../../errors.js';
import { apiBase, sendWire } from '../negotiate.js';
import { el, list } from '../wire/wire-node.js';
import { jobKind, objectInJobElement } from './backup-kinds.js';
import type { JobView } from './job-view.js';

/** `GET /jobs/{ID}/includes` (`<ObjectsInJob>`) and `/jobs/{ID}/includes/{ID}` (`<ObjectInJob>`): the VMs a job backs up (get_jobs_id_includes.md). */
export function jobIncludesPlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    async function job(request: FastifyRequest): Promise<JobView> {
      const { id } = request.params as { id: string };
      const j = await jobKind.find(ctx, request.principal!, id);
      if (!j) throw notFound(`Job ${id} was not found`);
      return j;
    }
    app.get('/api/jobs/:id/includes', { schema: { summary: 'The VMs a backup job includes' } }, async (request, reply) => {
      const j = await job(request);
      const base = apiBase(request);
      return sendWire(request, reply, 200, el('ObjectsInJob', [], [list(null, 'ObjectInJobs', j.objects.map((o) => objectInJobElement(base, j, o, true)))]));
    });
    app.get('/api/jobs/:id/includes/:objectId', { schema: { summary: 'One VM a backup job includes' } }, async (request, reply) => {
      const j = await job(request);
      const { objectId } = request.params as { objectId: string };
      const o = j.objects.find((x) => x.id === objectId.toLowerCase());
      if (!o) throw notFound(`Object ${objectId} is not included in job ${j.name}`);
      return sendWire(request, reply, 200, objectInJobElement(apiBase(request), j, o, true));
    });
  };
}
