import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import './api-context.js';
import type { ApiContext } from './api-context.js';
import { OpenemError } from '../errors.js';
import { RouteRegistry } from './route-registry.js';
import { installErrorHandling, frameworkErrorHandler } from './error-handler.js';
import { sessionHook } from './session-hook.js';
import { guidIdHook } from './resource-ids.js';
import { entryPlugin } from './entry.js';
import { sessionsPlugin } from './sessions.js';
import { openApiPlugin } from './openapi.js';
import { uiPlugin } from './ui.js';
import { operationsPlugin, type Metrics } from './operations.js';

/** One API area per plugin; later areas register here. */
export type AreaPlugin = (ctx: ApiContext) => (app: FastifyInstance) => Promise<void>;

export interface BuildApiOptions {
  https?: { key: string | Buffer; cert: string | Buffer };
  metrics: Metrics;
  areas?: AreaPlugin[];
  version?: string;
}

/** Builds one Fastify instance (one per listener: HTTPS 9398, HTTP 9399) over the shared context. */
export async function buildApi(ctx: ApiContext, options: BuildApiOptions): Promise<FastifyInstance> {
  const fastifyOptions: FastifyServerOptions & { https?: unknown } = {
    loggerInstance: ctx.log,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: ctx.config.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 1024 },
    // While closing, in-flight requests finish and idle keep-alive sockets close; Fastify's own 503 body is not EM's.
    return503OnClosing: false,
    // Errors Fastify raises before routing (a malformed %-escape in the path) also get an EM Error body.
    frameworkErrors: frameworkErrorHandler,
    forceCloseConnections: 'idle',
  };
  if (options.https) fastifyOptions.https = { ...options.https, minVersion: 'TLSv1.2' };
  const app = Fastify(fastifyOptions as FastifyServerOptions) as unknown as FastifyInstance;

  const registry = new RouteRegistry();
  registry.attach(app);
  installErrorHandling(app, { debug: ctx.config.debug, isMethodKnown: (p) => registry.isPathKnown(p) });

  // Bodies are read as text and parsed against their spec by the route (request-body.ts).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/xml', 'text/xml', 'application/json'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, body, done) => {
    if (String(body).length === 0) return done(null, '');
    done(new OpenemError('UNSUPPORTED_MEDIA_TYPE', `Unsupported Content-Type '${req.headers['content-type']}'; use application/xml or application/json`), undefined);
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Cache-Control', 'no-store');
    if (request.protocol === 'https') reply.header('Strict-Transport-Security', 'max-age=31536000');
    if (request.url.length > ctx.config.maxUrlLength) throw new OpenemError('URI_TOO_LONG', `URL longer than ${ctx.config.maxUrlLength} characters`);
  });
  // Sessions are checked before the body is read, so nobody without one gets a body parsed.
  app.addHook('onRequest', sessionHook(ctx));
  app.addHook('preParsing', guidIdHook());

  await app.register(operationsPlugin(ctx, options.metrics));
  await app.register(entryPlugin);
  await app.register(sessionsPlugin(ctx));
  for (const area of options.areas ?? []) await app.register(area(ctx));
  await app.register(openApiPlugin(registry, options.version ?? '0.0.0'));
  await app.register(uiPlugin);
  return app;
}
