import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BaseContext } from '../context.js';
import { OpenemError, badRequest, notFound } from '../errors.js';
import { logOn, listSessions, getSession, deleteSession } from '../services/auth/logon-sessions.js';
import { el, list } from './wire/wire-node.js';
import { apiBase, sendWire } from './negotiate.js';
import { logonSessionElement } from './logon-session-wire.js';
import { SUPPORTED_VERSIONS } from './entry.js';
import { SESSION_HEADER } from './session-hook.js';
import { parseBody } from './request-body.js';
import { opt, req, seq, type BodySpec } from './wire/body-spec.js';

/**
 * The optional logon body (em-api.md §1 "Tenant logon"): `LoginSpec` with `VMwareSSOToken` [0..1] and
 * `TenantCredentials` [0..1]. openem has neither SSO nor tenants, so a body naming either is refused, but the
 * body is still parsed so malformed or hostile XML/JSON gets its 400 like any other body.
 */
const LOGIN_SPEC: BodySpec = {
  root: 'LoginSpec',
  content: seq(
    opt('VMwareSSOToken', 'string', 65536),
    opt('TenantCredentials', seq(req('Username', 'string', 256), req('Password', 'string', 1024), opt('TenantName', 'string', 256))),
  ),
};

function basicCredentials(request: FastifyRequest): { user: string; password: string } {
  const h = request.headers.authorization;
  if (!h) throw new OpenemError('UNAUTHORIZED', 'Send HTTP Basic credentials in the Authorization header to log on');
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h);
  if (!m) throw new OpenemError('UNAUTHORIZED', 'The Authorization header is not valid HTTP Basic');
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1 || decoded.includes('\0')) throw new OpenemError('UNAUTHORIZED', 'The Authorization header is not valid HTTP Basic');
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Logon, the session list, one session, and logoff (em-api.md §1). */
export function sessionsPlugin(ctx: BaseContext) {
  return async function (app: FastifyInstance) {
    app.post('/api/sessionMngr/', { config: { public: true }, schema: { summary: 'Log on (HTTP Basic) and create a logon session' } }, async (request, reply) => {
      const v = (request.query as Record<string, string | undefined>).v;
      if (v !== undefined && v !== 'latest' && !SUPPORTED_VERSIONS.includes(v)) {
        throw badRequest(`Unsupported REST API version '${v}'. Supported: latest, ${SUPPORTED_VERSIONS.join(', ')}`);
      }
      const spec = parseBody(request, LOGIN_SPEC);
      if (spec && (spec.VMwareSSOToken !== undefined || spec.TenantCredentials !== undefined)) {
        throw new OpenemError('NOT_IMPLEMENTED', 'Single sign-on and tenant logon are not supported; log on with HTTP Basic credentials');
      }
      const { user, password } = basicCredentials(request);
      const { session, token } = await logOn(ctx, user, password, request.ip);
      const secure = request.protocol === 'https' ? '; Secure' : '';
      reply.header('X-RestSvcSessionId', token);
      reply.header('Set-Cookie', `X-RestSvcSessionId=${encodeURIComponent(token)}; Path=/api; HttpOnly; SameSite=Strict${secure}`);
      reply.header('Location', `${apiBase(request)}/logonSessions/${session.id}`);
      return sendWire(request, reply, 201, logonSessionElement(apiBase(request), session));
    });

    app.get('/api/logonSessions', { schema: { summary: 'Logon sessions of the calling account (all for a Portal Administrator)' } }, async (request, reply) => {
      const p = request.principal!;
      const sessions = await listSessions(ctx, p.account.role === 'portal-admin' ? undefined : p.account.id);
      const base = apiBase(request);
      return sendWire(request, reply, 200, el('LogonSessions', [], [list(null, 'LogonSessions', sessions.map((s) => logonSessionElement(base, s)))]));
    });

    app.get('/api/logonSessions/:id', { schema: { summary: 'One logon session' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const p = request.principal!;
      // A client looking at its own session (the common case) needs no second trip to the store.
      const s = id === p.session.id ? p.session : await getSession(ctx, id);
      if (!s || (s.accountId !== p.account.id && p.account.role !== 'portal-admin')) throw notFound(`Logon session ${id} was not found`);
      return sendWire(request, reply, 200, logonSessionElement(apiBase(request), s));
    });

    app.delete('/api/logonSessions/:id', { schema: { summary: 'Log off: end a logon session' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const p = request.principal!;
      const s = await getSession(ctx, id);
      if (!s || (s.accountId !== p.account.id && p.account.role !== 'portal-admin')) throw notFound(`Logon session ${id} was not found`);
      await deleteSession(ctx, id);
      return reply.code(204).send();
    });
  };
}

export { SESSION_HEADER };
