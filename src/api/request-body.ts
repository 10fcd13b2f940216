import type { FastifyRequest } from 'fastify';
import { OpenemError } from '../errors.js';
import type { BodySpec, ParsedObject } from './wire/body-spec.js';
import { parseXmlBody } from './wire/parse-xml-body.js';
import { parseJsonBody } from './wire/parse-json-body.js';

/**
 * Parses a request body by its Content-Type against its spec. Returns `undefined` for an empty body,
 * which some calls accept (seed 003 posts the restore with no body; seed 002's mount body is optional).
 */
export function parseBody(request: FastifyRequest, spec: BodySpec): ParsedObject | undefined {
  const raw = typeof request.body === 'string' ? request.body : request.body === undefined || request.body === null ? '' : String(request.body);
  if (raw.trim() === '') return undefined;
  const type = String(request.headers['content-type'] ?? '').toLowerCase();
  if (type.includes('json')) return parseJsonBody(raw, spec);
  if (type.includes('xml') || type === '') return parseXmlBody(raw, spec);
  throw new OpenemError('UNSUPPORTED_MEDIA_TYPE', `Unsupported Content-Type '${type}'; use application/xml or application/json`);
}
