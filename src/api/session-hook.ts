import type { FastifyReply, FastifyRequest } from 'fastify';
import { OpenemError } from '../errors.js';
import { resolveToken } from '../services/auth/logon-sessions.js';
import type { ApiContext } from './api-context.js';

import { recordRefusal } from '../services/audit/audit-refusal.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the request's outcome is in the audit trail, so it is not recorded twice. */
    audited?: boolean;
  }
}

export const SESSION_HEADER = 'x-restsvcsessionid';

/** The path and method of a request as an audit target; the query is left out (it may be long, never secret). */
export function auditTarget(request: FastifyRequest): string {
  return `${request.method} ${request.url.split('?')[0].slice(0, 512)}`;
}

/** The cookie wins over the header when both are sent (em-api.md §1). */
export function sessionToken(request: FastifyRequest): string | undefined {
  const cookie = request.headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim().toLowerCase() === SESSION_HEADER) {
        const v = decodeURIComponent(part.slice(eq + 1).trim());
        if (v) return v;
      }
    }
  }
  const h = request.headers[SESSION_HEADER];
  return Array.isArray(h) ? h[0] : h || undefined;
}

/** Deny by default: every route needs a live logon session unless it is marked public. */
export function sessionHook(ctx: ApiContext) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    if (request.routeOptions.config?.public) return;
    const token = sessionToken(request);
    const principal = token ? await resolveToken(ctx, token) : undefined;
    if (!principal) {
      const message = token ? 'The logon session is unknown or has expired; log on again' : 'A logon session is required: send the X-RestSvcSessionId header';
      request.audited = true;
      await recordRefusal(ctx, { address: request.ip, target: auditTarget(request), status: 401, message });
      throw new OpenemError('UNAUTHORIZED', message);
    }
    request.principal = principal;
  };
}
