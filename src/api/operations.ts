import type { FastifyInstance } from 'fastify';
import { Registry, Histogram, Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import type { ApiContext } from './api-context.js';
import { checkReadiness } from '../services/monitoring/readiness.js';

export interface Metrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route' | 'method' | 'status'>;
}

/** The server's metrics; with `ctx`, also what its services hold (the kept folder listings of its mounts). */
export function createMetrics(ctx?: ApiContext): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (ctx) {
    new Gauge({
      name: 'openem_flr_kept_listing_bytes',
      help: 'Bytes of folder listings kept as sent for the open mounts, to send them again',
      registers: [registry],
      collect() {
        this.set(ctx.mounts?.listings.bytes ?? 0);
      },
    });
    new Counter({
      name: 'openem_flr_kept_listings_sent_total',
      help: 'Folder listings of mounts sent again as kept, without reading or rendering them',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(ctx.mounts?.listings.hits ?? 0);
      },
    });
  }
  return {
    registry,
    requests: new Counter({ name: 'openem_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    latency: new Histogram({
      name: 'openem_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
  };
}

/** `/healthz`, `/readyz` and Prometheus `/metrics`, outside `/api` and without a session. */
export function operationsPlugin(ctx: ApiContext, metrics: Metrics) {
  return async function (app: FastifyInstance) {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const labels = { route, method: request.method, status: String(reply.statusCode) };
      metrics.requests.inc(labels);
      metrics.latency.observe(labels, reply.elapsedTime / 1000);
    });
    app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));
    // 200 when the state store and the object store both answer, 503 naming the one that does not.
    app.get('/readyz', { config: { public: true } }, async (_req, reply) => {
      const r = await checkReadiness(ctx);
      return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not ready', database: r.database, objectStore: r.objectStore });
    });
    app.get('/metrics', { config: { public: true } }, async (_req, reply) => {
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  };
}
