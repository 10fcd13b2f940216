import type { BaseContext } from '../../context.js';
import { OpenemError } from '../../errors.js';

/** What happened, in a few stable words: `logon`, `logoff`, `refused`, `restore-vm`, `mount`, `download`, … */
export type AuditAction = string;
/** `started`: written ahead of an action (`audited`) and not yet completed with how the action ended. */
export type AuditResult = 'success' | 'failure' | 'refused' | 'started';

/** One line of the audit trail (issue #6 §2): who did what to which target, from where, and how it ended. */
export interface AuditEntry {
  /** Account name as given (for a failed logon, the name that was tried); `-` when nobody is known. */
  who: string;
  what: AuditAction;
  /** The object acted on: a VM restore point id, a mount, a path, a route. */
  target?: string;
  result: AuditResult;
  /** Client address (the request's IP). */
  address: string;
  /** Free text, e.g. the refusal's message. Never a password or session token: see `scrubSecrets`. */
  detail?: string;
}

export interface AuditRecord extends Required<AuditEntry> {
  seq: number;
  /** Epoch ms, from the context's clock. */
  at: number;
}

const MAX_FIELD = 1024;

/**
 * Defence in depth: callers never pass secrets, but a message built from user input might echo one.
 * Drops values following password/token/authorization/cookie keys and anything shaped like a Basic credential.
 */
export function scrubSecrets(s: string): string {
  return s
    .replace(/(password|passwd|token|sessionid|authorization|cookie)(["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&<>]+)/gi, '$1$2[redacted]')
    .replace(/\bBasic\s+[A-Za-z0-9+/=]{4,}/gi, 'Basic [redacted]')
    .slice(0, MAX_FIELD);
}

function auditRow(ctx: BaseContext, entry: AuditEntry) {
  return {
    at: ctx.clock.now(),
    user_name: scrubSecrets(entry.who || '-').slice(0, 256),
    address: String(entry.address ?? '').slice(0, 64),
    action: String(entry.what).slice(0, 64),
    target: scrubSecrets(entry.target ?? ''),
    result: entry.result,
    detail: scrubSecrets(entry.detail ?? ''),
  };
}

/** The trail cannot take an entry: what it would have recorded is refused rather than done unrecorded. */
function auditUnavailable(what: AuditAction, cause: unknown): OpenemError {
  return new OpenemError('UNAVAILABLE', `The audit trail cannot record this ${what}, so it was not done; try again once the state store accepts writes`, { cause });
}

/**
 * Records one audit entry in the state store, for what has already happened or is refused anyway (logons,
 * refusals, a download about to be sent). An entry that cannot be written is an error (UNAVAILABLE), never
 * only logged: an audit trail that can silently lose entries is not one (issue #15).
 */
export async function recordAudit(ctx: BaseContext, entry: AuditEntry): Promise<void> {
  try {
    await ctx.store.db.insertInto('audit').values(auditRow(ctx, entry)).execute();
  } catch (e) {
    throw auditUnavailable(entry.what, e);
  }
}

/**
 * Runs an action that changes something (a restore, a mount, a logoff) under an audit entry written ahead of
 * it, so that the trail never misses an action: the entry goes in first as `started`, and when it cannot be
 * written the action is not performed (UNAVAILABLE). Then the entry is completed with the outcome: `success`
 * with what `outcome` adds (e.g. the task id in the target), or `failure` with the action's message.
 * Should that last update fail, the entry stays `started`, which is true, and the failure is logged; the
 * action's own answer is not turned into an error after it was done.
 */
export async function audited<T>(
  ctx: BaseContext,
  entry: Omit<AuditEntry, 'result'>,
  action: () => Promise<T>,
  outcome: (value: T) => Pick<AuditEntry, 'target' | 'detail'> = () => ({}),
): Promise<T> {
  let seq: number;
  try {
    const row = await ctx.store.db.insertInto('audit').values(auditRow(ctx, { ...entry, result: 'started' })).returning('seq').executeTakeFirstOrThrow();
    seq = Number(row.seq);
  } catch (e) {
    throw auditUnavailable(entry.what, e);
  }
  const complete = async (result: AuditResult, changes: Pick<AuditEntry, 'target' | 'detail'>) => {
    const row = auditRow(ctx, { ...entry, ...changes, result });
    try {
      await ctx.store.db.updateTable('audit').set({ result, target: row.target, detail: row.detail }).where('seq', '=', seq).execute();
    } catch (e) {
      ctx.log.error({ err: e, audit: { seq, action: row.action, result } }, 'could not complete an audit entry; it stays "started"');
    }
  };
  let value: T;
  try {
    value = await action();
  } catch (e) {
    await complete('failure', { detail: [entry.detail, (e as Error)?.message ?? String(e)].filter(Boolean).join(': ') });
    throw e;
  }
  await complete('success', outcome(value));
  return value;
}

/** Audit entries, oldest first, optionally since a time and for one account name. */
export async function listAudit(ctx: BaseContext, filter: { since?: number; user?: string; limit?: number } = {}): Promise<AuditRecord[]> {
  let q = ctx.store.db.selectFrom('audit').selectAll();
  if (filter.since !== undefined) q = q.where('at', '>=', filter.since);
  if (filter.user !== undefined) q = q.where('user_name', '=', filter.user);
  const rows = await q.orderBy('seq', 'desc').limit(filter.limit ?? 10_000).execute();
  return rows.reverse().map((r) => ({
    seq: Number(r.seq),
    at: Number(r.at),
    who: r.user_name,
    what: r.action,
    target: r.target,
    result: r.result as AuditResult,
    address: r.address,
    detail: r.detail,
  }));
}
