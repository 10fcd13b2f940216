import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isOpenemError, type ErrorCode } from '../errors.js';
import { ERROR_STATUS, errorBody, errorJson } from './errors.js';
import { responseFormat, sendWire } from './negotiate.js';

/** Fastify's own error codes that mean bad input, as catalogue codes (whose statuses are in errors.ts). */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_VALIDATION: 'BAD_REQUEST',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
};

export function sendError(request: FastifyRequest, reply: FastifyReply, status: number, message: string, stack?: string) {
  // A browser page's own fetch (X-Requested-With) must not trigger the browser's Basic prompt, which would hang it.
  if (status === 401 && request.headers['x-requested-with'] !== 'XMLHttpRequest') reply.header('WWW-Authenticate', 'Basic Realm=RestSvc');
  if (responseFormat(request) === 'json') return reply.code(status).type('application/json; charset=utf-8').send(errorJson(status, message, stack));
  return sendWire(request, reply, status, errorBody(status, message, stack));
}

/**
 * Fastify answers a few framework errors (a path with bad percent-encoding) before any route or hook runs,
 * with its own JSON body; pass this as the `frameworkErrors` server option so they get the Error body too.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  return sendError(request, reply, ERROR_STATUS.BAD_REQUEST, error.code === 'FST_ERR_BAD_URL' ? 'The URL is not validly percent-encoded' : error.message);
}

/** Every 4xx/5xx carries Enterprise Manager's Error body in the negotiated format (issue #2 §5). */
export function installErrorHandling(app: FastifyInstance, options: { debug: boolean; isMethodKnown: (url: string) => boolean }) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isOpenemError(error)) {
      const status = ERROR_STATUS[error.code];
      if (error.retryAfterSeconds !== undefined) reply.header('Retry-After', String(error.retryAfterSeconds));
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      return sendError(request, reply, status, error.message, options.debug && status >= 500 ? error.stack : undefined);
    }
    const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (mapped) return sendError(request, reply, ERROR_STATUS[mapped], error.message);
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(request, reply, error.statusCode, error.message);
    }
    request.log.error({ err: error }, 'internal error');
    return sendError(request, reply, ERROR_STATUS.INTERNAL, 'Internal server error', options.debug ? error.stack : undefined);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    if (options.isMethodKnown(path)) return sendError(request, reply, ERROR_STATUS.METHOD_NOT_ALLOWED, `Method ${request.method} is not allowed on ${path}`);
    return sendError(request, reply, ERROR_STATUS.NOT_FOUND, `No resource at ${path}`);
  });
}
