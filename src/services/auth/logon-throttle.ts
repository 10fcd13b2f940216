import type { BaseContext } from '../../context.js';
import { OpenemError } from '../../errors.js';

/**
 * Failed logons counted per client address and per account name (issue #6 §3). Each failure inside the window
 * slows the next answer (100 ms doubling, at most 2 s); at `logonFailureLimit` failures the address or name is
 * refused with 429 for `logonLockoutSeconds`, even with the right password, so the answer never confirms a guess.
 * Names are counted whether or not the account exists, so the lock does not tell that either. A successful
 * logon clears both counters. Counts live in this process: with several nodes on PostgreSQL each node counts
 * on its own (the limit is per node). One throttle per application context (`AppContext.logonThrottle`).
 */
interface Counter {
  failures: number;
  firstAt: number;
  lockedUntil: number;
}

const MAX_TRACKED = 50_000;

export class LogonThrottle {
  private readonly counters = new Map<string, Counter>();

  constructor(private readonly ctx: BaseContext) {}

  private keys(address: string, user: string): string[] {
    return [`a:${address}`, `u:${user.toLowerCase()}`];
  }

  private live(key: string, now: number): Counter | undefined {
    const c = this.counters.get(key);
    if (!c) return undefined;
    const windowMs = this.ctx.config.logonLockoutSeconds * 1000;
    if (c.lockedUntil <= now && now - c.firstAt > windowMs) {
      this.counters.delete(key);
      return undefined;
    }
    return c;
  }

  /** Throws TOO_MANY_REQUESTS (with the seconds to wait) while the address or the name is locked. */
  assertNotLocked(address: string, user: string): void {
    if (this.ctx.config.logonFailureLimit === 0) return;
    const now = this.ctx.clock.now();
    const until = Math.max(0, ...this.keys(address, user).map((k) => this.live(k, now)?.lockedUntil ?? 0));
    if (until > now) throw new OpenemError('TOO_MANY_REQUESTS', 'Too many failed logons; try again later', { retryAfterSeconds: Math.ceil((until - now) / 1000) });
  }

  /** Counts a failure; returns how long to hold the answer back. */
  failed(address: string, user: string): number {
    const limit = this.ctx.config.logonFailureLimit;
    if (limit === 0) return 0;
    const now = this.ctx.clock.now();
    let worst = 0;
    for (const key of this.keys(address, user)) {
      let c = this.live(key, now);
      if (!c) {
        if (this.counters.size >= MAX_TRACKED) this.counters.delete(this.counters.keys().next().value!);
        c = { failures: 0, firstAt: now, lockedUntil: 0 };
        this.counters.set(key, c);
      }
      c.failures++;
      if (c.failures >= limit) c.lockedUntil = now + this.ctx.config.logonLockoutSeconds * 1000;
      worst = Math.max(worst, c.failures);
    }
    return worst <= 1 ? 0 : Math.min(2000, 100 * 2 ** (worst - 2));
  }

  succeeded(address: string, user: string): void {
    for (const key of this.keys(address, user)) this.counters.delete(key);
  }
}
