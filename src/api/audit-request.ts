import type { FastifyRequest } from 'fastify';
import type { BaseContext } from '../context.js';
import { audited, recordAudit } from '../services/audit/audit-trail.js';

/** Records what the caller of `request` did (issue #6: restores, mounts and downloads are audited). */
export function auditRequest(ctx: BaseContext, request: FastifyRequest, what: string, target: string, detail?: string): Promise<void> {
  return recordAudit(ctx, { who: request.principal?.account.name ?? '-', what, target, result: 'success', address: request.ip, detail });
}

/** Runs what the caller of `request` asked for under an audit entry written ahead of it (`audited`). */
export function auditedRequest<T>(
  ctx: BaseContext,
  request: FastifyRequest,
  entry: { what: string; target: string; detail?: string },
  action: () => Promise<T>,
  outcome?: (value: T) => { target?: string; detail?: string },
): Promise<T> {
  return audited(ctx, { who: request.principal?.account.name ?? '-', address: request.ip, ...entry }, action, outcome);
}
