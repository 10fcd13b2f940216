import type { BaseContext } from '../../context.js';
import type { Store } from '../../state/open-store.js';
import { recordAudit } from './audit-trail.js';
import { RefusalLimiter } from './refusal-limiter.js';

const limiters = new WeakMap<Store, RefusalLimiter>();

/** Records a 401/403 refusal, rate-limited per address (refusal-limiter.ts). */
export async function recordRefusal(ctx: BaseContext, r: { who?: string; address: string; target: string; status: number; message: string }): Promise<void> {
  let limiter = limiters.get(ctx.store);
  if (!limiter) limiters.set(ctx.store, (limiter = new RefusalLimiter(ctx.clock)));
  const admit = limiter.admit(r.address);
  if (admit === 'skip') return;
  const note = admit === 'record-last' ? ' (further refusals from this address are not recorded this minute)' : '';
  await recordAudit(ctx, { who: r.who ?? '-', what: 'refused', target: r.target, result: 'refused', address: r.address, detail: `${r.status}: ${r.message}${note}` });
}
