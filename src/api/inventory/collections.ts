import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { notFound } from '../../errors.js';
import { apiBase, sendWire } from '../negotiate.js';
import { entityElement, entityList, entityReferences, refElement, type ResourceKind } from './resource-kind.js';

/** `?format=Entity` (any casing; `Entities` too) asks for the entity form (em-api.md §3). */
export function wantsEntity(request: FastifyRequest): boolean {
  const f = (request.query as Record<string, unknown>).format;
  return typeof f === 'string' && /^entit(y|ies)$/i.test(f);
}

/** Renders a list of items as references or, with `?format=Entity`, as the plural entity list. */
export function sendItems<T>(ctx: ApiContext, request: FastifyRequest, reply: import('fastify').FastifyReply, kind: ResourceKind<T>, items: T[]) {
  const base = apiBase(request);
  if (wantsEntity(request)) return sendWire(request, reply, 200, entityList(kind.entityList, items.map((t) => entityElement(base, kind, t, ctx))));
  return sendWire(request, reply, 200, entityReferences(items.map((t) => refElement(base, kind, t, ctx))));
}

/** `GET <collection>` and `GET <collection>/{ID}` for one resource kind, in reference and entity form. */
export function collectionPlugin<T>(kind: ResourceKind<T>) {
  return (ctx: ApiContext) =>
    async function (app: FastifyInstance) {
      app.get(`/api${kind.collection}`, { schema: { summary: `${kind.type} references (?format=Entity for entities)` } }, async (request, reply) =>
        sendItems(ctx, request, reply, kind, await kind.list(ctx, request.principal!)),
      );
      app.get(`/api${kind.collection}/:id`, { schema: { summary: `One ${kind.type} (?format=Entity for the entity)` } }, async (request, reply) => {
        const { id } = request.params as { id: string };
        const item = await kind.find(ctx, request.principal!, id);
        if (!item) throw notFound(`${kind.type} ${id} was not found`);
        const base = apiBase(request);
        return sendWire(request, reply, 200, wantsEntity(request) ? entityElement(base, kind, item, ctx) : refElement(base, kind, item, ctx, 'EntityRef'));
      });
    };
}
