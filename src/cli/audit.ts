import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { createBaseContext } from '../app-context.js';
import { listAudit } from '../services/audit/audit-trail.js';
import { badRequest } from '../errors.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since` as an ISO date/time, or a span back from now: `90s`, `30m`, `12h`, `7d`. */
export function parseSince(s: string, now: number): number {
  const span = /^(\d+)\s*([smhd])$/i.exec(s.trim());
  if (span) return now - Number(span[1]) * UNITS[span[2].toLowerCase()];
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw badRequest(`--since "${s}" is neither a date (2025-01-31, 2025-01-31T08:00:00Z) nor a span (30m, 12h, 7d)`);
  return t;
}

/** `openem audit [--since] [--user]`: prints the audit trail, oldest first (issue #6 §2). */
export function registerAuditCommand(program: Command) {
  program
    .command('audit')
    .description('print the audit trail: logons, logoffs, refusals, restores, mounts, downloads (acts on OPENEM_DATA_DIR / OPENEM_DATABASE_URL)')
    .option('--since <when>', 'only entries since a date/time (ISO) or a span back from now (30m, 12h, 7d)')
    .option('--user <name>', 'only entries of this account name')
    .option('--limit <n>', 'at most the newest n entries', '10000')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { since?: string; user?: string; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isSafeInteger(limit) || limit < 1) throw badRequest(`--limit "${opts.limit}" is not a positive integer`);
      const since = opts.since === undefined ? undefined : parseSince(opts.since, Date.now());
      const ctx = await createBaseContext(loadConfig(), createLogger('warn'), { announce: (l) => process.stderr.write(l + '\n') });
      try {
        for (const e of await listAudit(ctx, { since, user: opts.user, limit })) {
          if (opts.json) process.stdout.write(JSON.stringify({ ...e, at: new Date(e.at).toISOString() }) + '\n');
          else process.stdout.write([new Date(e.at).toISOString(), e.who, e.address || '-', e.what, e.target || '-', e.result, e.detail].join('\t') + '\n');
        }
      } finally {
        await ctx.store.close();
      }
    });
}
