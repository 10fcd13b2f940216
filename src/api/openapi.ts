import type { FastifyInstance } from 'fastify';
import type { RouteRegistry } from './route-registry.js';

/** An OpenAPI 3 document of the implemented routes, built from the route registry at request time. */
export function openApiPlugin(registry: RouteRegistry, version: string) {
  return async function (app: FastifyInstance) {
    app.get('/api/openapi.json', { config: { public: true }, schema: { summary: 'This OpenAPI document' } }, async (_req, reply) => {
      const paths: Record<string, Record<string, unknown>> = {};
      for (const r of registry.routes) {
        if (!r.url.startsWith('/api')) continue;
        const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{path}');
        const params = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
        paths[path] ??= {};
        paths[path][r.method.toLowerCase()] = {
          summary: r.summary ?? `${r.method} ${path}`,
          parameters: params,
          security: r.public ? [] : [{ session: [] }],
          responses: { default: { description: 'Enterprise Manager representation (XML by default, JSON with Accept: application/json), or an Error body' } },
        };
      }
      reply.type('application/json').send({
        openapi: '3.0.3',
        info: { title: 'openem — Enterprise Manager restore API', version },
        components: { securitySchemes: { session: { type: 'apiKey', in: 'header', name: 'X-RestSvcSessionId' }, basic: { type: 'http', scheme: 'basic' } } },
        paths,
      });
    });
  };
}
