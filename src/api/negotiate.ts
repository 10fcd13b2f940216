import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WireElement } from './wire/wire-node.js';
import { EM_NAMESPACE, OPENEM_NAMESPACE, renderXml, renderXmlChunks } from './wire/render-xml.js';
import { renderJson, renderJsonChunks } from './wire/render-json.js';

export type WireFormat = 'xml' | 'json';

/** XML unless the client asks for JSON (seed 001: "If the request does not contain the header, … XML"). */
export function responseFormat(request: FastifyRequest): WireFormat {
  const accept = String(request.headers.accept ?? '').toLowerCase();
  if (!accept.includes('json')) return 'xml';
  if (!accept.includes('xml')) return 'json';
  return accept.indexOf('json') < accept.indexOf('xml') ? 'json' : 'xml';
}

export function contentTypeOf(format: WireFormat): string {
  return format === 'json' ? 'application/json; charset=utf-8' : 'application/xml; charset=utf-8';
}

/** Whether a representation holds a generated list (outside list items): it is then sent as it renders. */
function hasGeneratedList(e: WireElement): boolean {
  return e.children.some((c) => c.kind === 'generated' || (c.kind === 'element' && hasGeneratedList(c)));
}

/**
 * A representation with a generated list (a folder listing) streams: rendered a piece at a time as the client
 * reads, so its memory is one piece, not the document (issue #11 goals 3 and 5). Others are sent whole.
 */
function sendRendered(reply: FastifyReply, format: WireFormat, root: WireElement, namespace: string): FastifyReply {
  const type = contentTypeOf(format);
  if (hasGeneratedList(root)) {
    const chunks = format === 'json' ? renderJsonChunks(root) : renderXmlChunks(root, namespace);
    return reply.type(type).send(Readable.from(chunks, { objectMode: false }));
  }
  return reply.type(type).send(format === 'json' ? renderJson(root) : renderXml(root, namespace));
}

export function sendWire(request: FastifyRequest, reply: FastifyReply, status: number, root: WireElement): FastifyReply {
  return sendRendered(reply.code(status), responseFormat(request), root, EM_NAMESPACE);
}

/** One of openem's own resources (beyond Enterprise Manager's): XML in openem's namespace, JSON as EM's rules. */
export function sendOpenemWire(request: FastifyRequest, reply: FastifyReply, status: number, root: WireElement): FastifyReply {
  return sendRendered(reply.code(status), responseFormat(request), root, OPENEM_NAMESPACE);
}

/** Absolute href base for the scheme and host the client called (issue #2: hrefs use what the client used). */
export function apiBase(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}/api`;
}
