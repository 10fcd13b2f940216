import type { FastifyInstance, FastifyReply } from 'fastify';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extname, join } from 'node:path';
import { notFound, OpenemError } from '../errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

/** The portal loads only what it ships: no inline script or style, no other origin, never framed. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

interface Asset {
  body: Buffer;
  type: string;
  /** Vite names what it bundles after the content's hash (`assets/index-3f2a1c.js`): such a name never changes meaning. */
  immutable: boolean;
}

/**
 * The portal as `npm run build` leaves it (Vite, `ui/vite.config.ts`): `dist/ui/`, which is two folders up from
 * dist/src/api, and `dist/ui/` below the package root when the server runs from source (tsx).
 */
export function portalFolder(): string | undefined {
  for (const rel of ['../../ui/', '../../dist/ui/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'assets'))) return dir;
  }
  return undefined;
}

/**
 * Every file of the built portal, read once at start and keyed by its path below the folder. A request is answered
 * only by an exact key of this map, so no URL (`..`, `%2e%2e`, a symlink, a NUL) can name a file outside it.
 */
export function loadPortalAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const st = statSync(join(dir, path));
      if (st.isDirectory()) walk(path);
      else if (st.isFile() && TYPES[extname(name)]) {
        assets.set(path, { body: readFileSync(join(dir, path)), type: TYPES[extname(name)], immutable: path.startsWith('assets/') });
      }
    }
  };
  walk('');
  return assets;
}

/** The restore portal at `/ui/` (issue #16): a single page built from `ui/` that uses the API like any client. */
export async function uiPlugin(app: FastifyInstance) {
  const dir = portalFolder();
  const assets = dir ? loadPortalAssets(dir) : new Map<string, Asset>();
  const serve = (path: string, reply: FastifyReply) => {
    const asset = assets.get(path);
    if (!asset) {
      if (assets.size === 0) throw new OpenemError('UNAVAILABLE', 'The restore portal has not been built: run "npm run build"');
      throw notFound(`No resource at /ui/${path}`);
    }
    reply.header('Content-Security-Policy', CSP);
    // The page itself is checked on every load, so a new build shows at once; what it links to is cached for good.
    reply.header('Cache-Control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    return reply.type(asset.type).send(asset.body);
  };
  app.get('/', { config: { public: true } }, async (_req, reply) => reply.redirect('/ui/'));
  app.get('/ui/', { config: { public: true } }, async (_req, reply) => serve('index.html', reply));
  app.get('/ui/*', { config: { public: true } }, async (request, reply) => serve((request.params as { '*': string })['*'], reply));
}
