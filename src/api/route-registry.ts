import type { FastifyInstance, RouteOptions } from 'fastify';

export interface RegisteredRoute {
  method: string;
  url: string;
  summary?: string;
  public: boolean;
}

/**
 * Remembers every route so unknown methods on known paths answer 405 (not 404), and so the OpenAPI
 * document lists exactly what is implemented.
 */
export class RouteRegistry {
  readonly routes: RegisteredRoute[] = [];
  private patterns: RegExp[] = [];

  attach(app: FastifyInstance): void {
    app.addHook('onRoute', (r: RouteOptions) => {
      const methods = Array.isArray(r.method) ? r.method : [r.method];
      for (const m of methods) {
        if (m === 'HEAD') continue;
        this.routes.push({ method: m, url: r.url, summary: (r.schema as { summary?: string } | undefined)?.summary, public: !!r.config?.public });
      }
      this.patterns.push(toRegExp(r.url));
    });
  }

  isPathKnown(path: string): boolean {
    const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    return this.patterns.some((re) => re.test(p));
  }
}

function toRegExp(url: string): RegExp {
  const body = url
    .replace(/\/$/, '')
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${body || ''}/?$`);
}
