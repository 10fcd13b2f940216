import type { AppContext } from '../app-services.js';
import { recordAudit } from './audit-trail.js';

/** Records a 401/403 refusal, rate-limited per address by the context's refusal limiter (refusal-limiter.ts). */
export async function recordRefusal(ctx: AppContext, r: { who?: string; address: string; target: string; status: number; message: string }): Promise<void> {
  const admit = ctx.refusalLimiter.admit(r.address);
  if (admit === 'skip') return;
  const note = admit === 'record-last' ? ' (further refusals from this address are not recorded this minute)' : '';
  await recordAudit(ctx, { who: r.who ?? '-', what: 'refused', target: r.target, result: 'refused', address: r.address, detail: `${r.status}: ${r.message}${note}` });
}
