import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { ApiContext } from './api/api-context.js';
import { buildApi, type AreaPlugin } from './api/build-api.js';
import { createMetrics } from './api/operations.js';
import { loadOrCreateCertificate } from './tls.js';

export interface RunningServer {
  apps: FastifyInstance[];
  /** Base URLs, e.g. https://127.0.0.1:9398 */
  urls: { https?: string; http?: string };
  /** Stops accepting, lets in-flight requests finish, then returns. */
  close(): Promise<void>;
}

function urlOf(app: FastifyInstance, scheme: string): string {
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') return `${scheme}://${String(addr)}`;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `${scheme}://${host}:${addr.port}`;
}

/** HTTPS on 9398 and plain HTTP on 9399, both under /api; a port of 0 in the config turns a listener off. */
export async function startServer(ctx: ApiContext, config: Config, areas: AreaPlugin[], version: string): Promise<RunningServer> {
  const metrics = createMetrics(ctx);
  const apps: FastifyInstance[] = [];
  const urls: RunningServer['urls'] = {};
  try {
    if (config.httpsPort !== 0) {
      const tls = await loadOrCreateCertificate(config);
      const app = await buildApi(ctx, { https: tls, metrics, areas, version });
      await app.listen({ host: config.listen, port: config.httpsPort });
      apps.push(app);
      urls.https = urlOf(app, 'https');
    }
    if (config.httpPort !== 0) {
      const app = await buildApi(ctx, { metrics, areas, version });
      await app.listen({ host: config.listen, port: config.httpPort });
      apps.push(app);
      urls.http = urlOf(app, 'http');
    }
  } catch (e) {
    await Promise.all(apps.map((a) => a.close()));
    throw e;
  }
  return {
    apps,
    urls,
    close: async () => {
      await Promise.all(apps.map((a) => a.close()));
    },
  };
}

export type { AreaPlugin };
