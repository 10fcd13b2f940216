import type { BaseContext } from '../../context.js';

/** What happened, in a few stable words: `logon`, `logoff`, `refused`, `restore-vm`, `mount`, `download`, … */
export type AuditAction = string;
export type AuditResult = 'success' | 'failure' | 'refused';

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

/**
 * Records one audit entry in the state store. Other API areas call this for restores, mounts and downloads.
 * Failing to record is logged, never thrown: an audit-store hiccup must not turn a finished restore into an error.
 */
export async function recordAudit(ctx: BaseContext, entry: AuditEntry): Promise<void> {
  const row = {
    at: ctx.clock.now(),
    user_name: scrubSecrets(entry.who || '-').slice(0, 256),
    address: String(entry.address ?? '').slice(0, 64),
    action: String(entry.what).slice(0, 64),
    target: scrubSecrets(entry.target ?? ''),
    result: entry.result,
    detail: scrubSecrets(entry.detail ?? ''),
  };
  try {
    await ctx.store.db.insertInto('audit').values(row).execute();
  } catch (e) {
    ctx.log.error({ err: e, audit: { ...row, detail: undefined } }, 'could not record an audit entry');
  }
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
