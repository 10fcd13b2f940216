import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '../errors.js';
import { assertCanRestore } from '../services/auth/access.js';
import { vmRefOf } from './inventory/visible-points.js';
import { findVmRestorePoint } from '../services/inventory/restore-point-records.js';
import { startVmRestore } from '../services/restore-vm/start-vm-restore.js';
import type { ApiContext } from './api-context.js';
import { apiBase, sendWire } from './negotiate.js';
import { parseBody } from './request-body.js';
import { RESTORE_SPEC, toVmRestoreRequest } from './restore-spec.js';
import { taskElement } from './task-wire.js';
import { auditedRequest } from './audit-request.js';

/**
 * `POST /vmRestorePoints/{ID}?action=restore` (seed 001; seed 003 posts it with no body): 202 with the
 * StartVMRestore task. The path also answers with a trailing slash, as the seed writes it
 * (`/vmRestorePoints/{ID}/?action=restore`); routes ignore trailing slashes.
 */
export function vmRestorePlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    app.post('/api/vmRestorePoints/:id', { schema: { summary: 'Entire VM restore from a VM restore point (?action=restore)' } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const action = (request.query as Record<string, unknown>).action;
      if (action !== 'restore') throw badRequest(`POST /vmRestorePoints/{ID} needs ?action=restore (got ${action === undefined ? 'no action' : `'${String(action)}'`})`);
      const point = await findVmRestorePoint(ctx, id);
      if (!point) throw notFound(`VM restore point ${id} was not found`);
      // Scope and restore kind are checked before the body, so a refused caller learns nothing from validation.
      assertCanRestore(request.principal!, 'vm', await vmRefOf(ctx, point));
      const request_ = await toVmRestoreRequest(ctx, point, parseBody(request, RESTORE_SPEC));
      const task = await auditedRequest(
        ctx, request, { what: 'restore-vm', target: `${point.vmName} ${point.id}`, detail: describeTarget(request_) },
        () => startVmRestore(ctx, request.principal!, point, request_),
        (t) => ({ target: `${point.vmName} ${point.id} (${t.taskId})` }),
      );
      return sendWire(request, reply, 202, taskElement(apiBase(request), task));
    });
  };
}

function describeTarget(r: { quickRollback: boolean; target: { kind: string } }): string {
  return `target ${r.target.kind}${r.quickRollback ? ', QuickRollback' : ''}`;
}
