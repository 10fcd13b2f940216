import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WireElement } from './wire/wire-node.js';
import { OPENEM_NAMESPACE, renderXml } from './wire/render-xml.js';
import { renderJson } from './wire/render-json.js';

export type WireFormat = 'xml' | 'json';

/** XML unless the client asks for JSON (seed 001: "If the request does not contain the header, … XML"). */
export function responseFormat(request: FastifyRequest): WireFormat {
  const accept = String(request.headers.accept ?? '').toLowerCase();
  if (!accept.includes('json')) return 'xml';
  if (!accept.includes('xml')) return 'json';
  return accept.indexOf('json') < accept.indexOf('xml') ? 'json' : 'xml';
}

export function sendWire(request: FastifyRequest, reply: FastifyReply, status: number, root: WireElement): FastifyReply {
  const format = responseFormat(request);
  reply.code(status);
  if (format === 'json') return reply.type('application/json; charset=utf-8').send(renderJson(root));
  return reply.type('application/xml; charset=utf-8').send(renderXml(root));
}

/** One of openem's own resources (beyond Enterprise Manager's): XML in openem's namespace, JSON as EM's rules. */
export function sendOpenemWire(request: FastifyRequest, reply: FastifyReply, status: number, root: WireElement): FastifyReply {
  if (responseFormat(request) === 'json') return sendWire(request, reply, status, root);
  return reply.code(status).type('application/xml; charset=utf-8').send(renderXml(root, OPENEM_NAMESPACE));
}

/** Absolute href base for the scheme and host the client called (issue #2: hrefs use what the client used). */
export function apiBase(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}/api`;
}
