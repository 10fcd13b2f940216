import { hostname } from 'node:os';
import type { ResourceKind } from '../inventory/resource-kind.js';
import type { RestoreSessionRecord, TaskRecord } from '../../tasks/task-types.js';
import { restoreSessionEntity, restoreSessionName, restoreSessionRef, withPointNames, type RestoreSessionView } from '../restore-session-wire.js';
import { taskElement } from '../task-wire.js';
import { isAdmin } from '../../services/auth/access.js';
import { notFound } from '../../errors.js';

/**
 * Restore sessions in the query service (em-api.md §4: fields UID, Name, CreationTime, EndTime, State, Result,
 * BackupServerUid, BackupServerName, VmDisplayName). A caller sees the sessions it started; an administrator all.
 */
export const restoreSessionKind: ResourceKind<RestoreSessionView> = {
  type: 'RestoreSession',
  collection: '/restoreSessions',
  entityList: 'RestoreSessions',
  list: async (ctx, p) => withPointNames(ctx, (await ctx.restoreSessions.list()).filter((s) => isAdmin(p) || s.accountId === p.account.id)),
  find: async (ctx, p, id) => {
    const s = await ctx.restoreSessions.get(id);
    return s && (isAdmin(p) || s.accountId === p.account.id) ? (await withPointNames(ctx, [s]))[0] : undefined;
  },
  id: (s) => s.id,
  name: (s) => restoreSessionName(s),
  refLinks: () => [],
  entity: () => ({ links: [], children: [] }),
  renderRef: (base, s, ctx, elementName) => restoreSessionRef(base, s, { id: ctx.backupServerId, name: hostname() }, elementName),
  renderEntity: (base, s, ctx) => restoreSessionEntity(base, s, { id: ctx.backupServerId, name: hostname() }),
  fields: (s) => ({
    uid: `urn:veeam:RestoreSession:${s.id}`,
    name: restoreSessionName(s),
    type: s.jobType,
    jobtype: s.jobType,
    creationtime: s.createdAt,
    endtime: s.endAt,
    state: s.state,
    result: s.result,
    vmdisplayname: s.vmDisplayName,
    backupservername: hostname(),
  }),
};

/** Tasks in the query service (`GET /query?type=Task`); tasks render as themselves in both forms. */
export const taskKind: ResourceKind<TaskRecord> = {
  type: 'Task',
  collection: '/tasks',
  entityList: 'Tasks',
  list: (ctx, p) => ctx.tasks.list(isAdmin(p) ? undefined : p.account.id),
  find: async (ctx, p, id) => {
    const t = await ctx.tasks.get(id);
    if (t && !isAdmin(p) && t.accountId !== p.account.id) throw notFound(`Task ${id} was not found`);
    return t;
  },
  id: (t) => t.taskId,
  name: (t) => t.taskId,
  refLinks: () => [],
  entity: () => ({ links: [], children: [] }),
  renderRef: (base, t) => taskElement(base, t),
  renderEntity: (base, t) => taskElement(base, t),
  // get_query_task.md filters on TaskId, State and Operation.
  fields: (t) => ({ uid: t.taskId, name: t.taskId, taskid: t.taskId, state: t.state, operation: t.operation, creationtime: t.createdAt }),
};
