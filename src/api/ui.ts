import type { FastifyInstance } from 'fastify';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { notFound } from '../errors.js';

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'restore.js': 'text/javascript; charset=utf-8',
  'restore.css': 'text/css; charset=utf-8',
};

/** `ui/` sits at the package root: two levels up from src/api (tsx) and three from dist/src/api. */
function uiFolder(): string {
  for (const rel of ['../../ui/', '../../../ui/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return fileURLToPath(new URL('../../ui/', import.meta.url));
}

/** The restore operator's web page at `/ui/`: static files that use the API like any client. */
export async function uiPlugin(app: FastifyInstance) {
  const dir = uiFolder();
  const serve = async (name: string, reply: import('fastify').FastifyReply) => {
    const type = FILES[name];
    if (!type) throw notFound(`No resource at /ui/${name}`);
    reply.header('Content-Security-Policy', "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'");
    reply.header('Cache-Control', 'no-cache');
    return reply.type(type).send(await readFile(dir + name));
  };
  app.get('/', { config: { public: true } }, async (_req, reply) => reply.redirect('/ui/'));
  app.get('/ui/', { config: { public: true } }, async (_req, reply) => serve('index.html', reply));
  app.get('/ui/:file', { config: { public: true } }, async (request, reply) => serve((request.params as { file: string }).file, reply));
}
