import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hostname } from 'node:os';
import { notFound } from '../errors.js';
import { isAdmin } from '../services/auth/access.js';
import type { RestoreSessionRecord } from '../tasks/task-types.js';
import type { ApiContext } from './api-context.js';
import { apiBase, sendOpenemWire, sendWire } from './negotiate.js';
import { restoreSessionEntities, restoreSessionEntity, restoreSessionLogElement, restoreSessionRef, restoreSessionReferences, withPointNames, type BackupServerRef } from './restore-session-wire.js';

function wantsEntity(request: FastifyRequest): boolean {
  return String((request.query as Record<string, unknown>).format ?? '').toLowerCase() === 'entity';
}

/** A Portal Administrator sees every restore session; other accounts see the sessions they started. */
function visible(request: FastifyRequest, s: RestoreSessionRecord): boolean {
  const p = request.principal!;
  return isAdmin(p) || s.accountId === p.account.id;
}

/** `GET /restoreSessions` and `GET /restoreSessions/{ID}` in reference and entity form (seed 003, em-api.md §4). */
export function restoreSessionsPlugin(ctx: ApiContext) {
  const server: BackupServerRef = { id: ctx.backupServerId, name: hostname() };
  return async function (app: FastifyInstance) {
    app.get('/api/restoreSessions', { schema: { summary: 'Restore sessions (references; ?format=Entity for entities)' } }, async (request, reply) => {
      const sessions = (await ctx.restoreSessions.list()).filter((s) => visible(request, s));
      const base = apiBase(request);
      return sendWire(request, reply, 200, wantsEntity(request) ? restoreSessionEntities(base, await withPointNames(ctx, sessions), server) : restoreSessionReferences(base, sessions, server));
    });

    app.get('/api/restoreSessions/:id', { schema: { summary: 'One restore session (reference; ?format=Entity for the entity)' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const s = await ctx.restoreSessions.get(id.toLowerCase());
      if (!s || !visible(request, s)) throw notFound(`Restore session ${id} was not found`);
      const base = apiBase(request);
      return sendWire(request, reply, 200, wantsEntity(request) ? restoreSessionEntity(base, (await withPointNames(ctx, [s]))[0], server) : restoreSessionRef(base, s, server, 'EntityRef'));
    });

    // openem's own: the session's log, linked from the entity (README "openem's own resources").
    app.get('/api/openem/restoreSessions/:id/log', { schema: { summary: "openem: a restore session's log" } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const s = await ctx.restoreSessions.get(id.toLowerCase());
      if (!s || !visible(request, s)) throw notFound(`Restore session ${id} was not found`);
      return sendOpenemWire(request, reply, 200, restoreSessionLogElement(apiBase(request), s));
    });
  };
}
