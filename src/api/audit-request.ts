import type { FastifyRequest } from 'fastify';
import type { BaseContext } from '../context.js';
import { recordAudit } from '../services/audit/audit-trail.js';

/** Records what the caller of `request` did (issue #6: restores, mounts and downloads are audited). */
export function auditRequest(ctx: BaseContext, request: FastifyRequest, what: string, target: string, detail?: string): Promise<void> {
  return recordAudit(ctx, { who: request.principal?.account.name ?? '-', what, target, result: 'success', address: request.ip, detail });
}
