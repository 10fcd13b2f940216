import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from './api-context.js';
import { OpenemError, badRequest, isOpenemError, notFound } from '../errors.js';
import { logOn, listSessions, getSession, deleteSession } from '../services/auth/logon-sessions.js';
import { el, list } from './wire/wire-node.js';
import { apiBase, sendWire } from './negotiate.js';
import { logonSessionElement } from './logon-session-wire.js';
import { SUPPORTED_VERSIONS } from './entry.js';
import { SESSION_HEADER, auditTarget } from './session-hook.js';
import { audited, recordAudit } from '../services/audit/audit-trail.js';
import { recordRefusal } from '../services/audit/audit-refusal.js';
import { canSeeOwned, isAdmin } from '../services/auth/access.js';
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
export function sessionsPlugin(ctx: ApiContext) {
  const plugin = async function (app: FastifyInstance) {
    // Refusals by role or scope (403), from whichever area raised them; 401s are recorded by the session hook.
    app.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode !== 403 || request.audited) return;
      await recordRefusal(ctx, { who: request.principal?.account.name, address: request.ip, target: auditTarget(request), status: 403, message: 'not allowed by role or restore scope' });
    });
    app.post('/api/sessionMngr/', { config: { public: true }, schema: { summary: 'Log on (HTTP Basic) and create a logon session' } }, async (request, reply) => {
      const v = (request.query as Record<string, string | undefined>).v;
      if (v !== undefined && v !== 'latest' && !SUPPORTED_VERSIONS.includes(v)) {
        throw badRequest(`Unsupported REST API version '${v}'. Supported: latest, ${SUPPORTED_VERSIONS.join(', ')}`);
      }
      const spec = parseBody(request, LOGIN_SPEC);
      if (spec && (spec.VMwareSSOToken !== undefined || spec.TenantCredentials !== undefined)) {
        throw new OpenemError('NOT_IMPLEMENTED', 'Single sign-on and tenant logon are not supported; log on with HTTP Basic credentials');
      }
      const address = request.ip;
      request.audited = true;
      let credentials: { user: string; password: string };
      try {
        credentials = basicCredentials(request);
      } catch (e) {
        await recordAudit(ctx, { who: '-', what: 'logon', result: 'failure', address, detail: (e as Error).message });
        throw e;
      }
      const { user, password } = credentials;
      const throttle = ctx.logonThrottle;
      try {
        await throttle.assertNotLocked(address, user);
      } catch (e) {
        await recordAudit(ctx, { who: user, what: 'logon', result: 'refused', address, detail: 'locked out after repeated failed logons' });
        throw e;
      }
      let result: Awaited<ReturnType<typeof logOn>>;
      try {
        result = await logOn(ctx, user, password, address);
      } catch (e) {
        const wrongCredentials = isOpenemError(e) && e.code === 'UNAUTHORIZED';
        // Counted before the audit entry is written, so a trail that cannot take it does not spare the throttle.
        const holdBack = wrongCredentials ? await throttle.failed(address, user) : 0;
        await recordAudit(ctx, { who: user, what: 'logon', result: 'failure', address, detail: wrongCredentials ? 'wrong user name or password, or no role' : (e as Error).message });
        await delay(holdBack);
        throw e;
      }
      const { session, sessionId, token } = result;
      try {
        await recordAudit(ctx, { who: user, what: 'logon', target: `logonSession:${session.id}`, result: 'success', address });
      } catch (e) {
        // An unaudited logon is no logon: the session just made is ended again before anyone holds its token.
        await deleteSession(ctx, session.id);
        throw e;
      }
      await throttle.succeeded(address, user);
      const secure = request.protocol === 'https' ? '; Secure' : '';
      reply.header('X-RestSvcSessionId', token);
      reply.header('Set-Cookie', `X-RestSvcSessionId=${encodeURIComponent(token)}; Path=/api; HttpOnly; SameSite=Strict${secure}`);
      reply.header('Location', `${apiBase(request)}/logonSessions/${session.id}`);
      return sendWire(request, reply, 201, logonSessionElement(apiBase(request), session, sessionId));
    });

    app.get('/api/logonSessions', { schema: { summary: 'Logon sessions of the calling account (all for a Portal Administrator)' } }, async (request, reply) => {
      const p = request.principal!;
      // The caller's own session comes first: clients log off with `LogonSessions[0]` (em-clients.md "Logon").
      const others = (await listSessions(ctx, isAdmin(p) ? undefined : p.account.id)).filter((s) => s.id !== p.session.id);
      const base = apiBase(request);
      const items = [logonSessionElement(base, p.session, p.sessionId), ...others.map((s) => logonSessionElement(base, s))];
      return sendWire(request, reply, 200, el('LogonSessions', [], [list(null, 'LogonSessions', items)]));
    });

    app.get('/api/logonSessions/:id', { schema: { summary: 'One logon session' } }, async (request, reply) => {
      const p = request.principal!;
      const id = ownSessionAlias(request);
      // A client looking at its own session (the common case) needs no second trip to the store.
      const s = id === p.session.id ? p.session : await getSession(ctx, id);
      if (!s || !canSeeOwned(p, s.accountId)) throw notFound(`Logon session ${id} was not found`);
      return sendWire(request, reply, 200, logonSessionElement(apiBase(request), s, s.id === p.session.id ? p.sessionId : s.id));
    });

    app.delete('/api/logonSessions/:id', { schema: { summary: 'Log off: end a logon session' } }, async (request, reply) => {
      const p = request.principal!;
      const id = ownSessionAlias(request);
      const s = await getSession(ctx, id);
      if (!s || !canSeeOwned(p, s.accountId)) throw notFound(`Logon session ${id} was not found`);
      await audited(ctx, { who: p.account.name, what: 'logoff', target: `logonSession:${id}`, address: request.ip }, () => deleteSession(ctx, id));
      return reply.code(204).send();
    });
  };
  // Not encapsulated, so the refusal hook above applies to every area registered after it (fastify-plugin's flag).
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}

/**
 * The session id in the URL; a client that builds `/logonSessions/{SessionId}` from its logon body names its
 * own session by its secret `SessionId`, which only that caller knows, so it is read as the caller's session.
 */
function ownSessionAlias(request: FastifyRequest): string {
  const { id } = request.params as { id: string };
  const p = request.principal!;
  return id.toLowerCase() === p.sessionId ? p.session.id : id;
}

const delay = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

export { SESSION_HEADER };
