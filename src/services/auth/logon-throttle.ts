import { sql } from 'kysely';
import type { BaseContext } from '../../context.js';
import { OpenemError } from '../../errors.js';

/** Expired counters are swept at most this often per process. */
const SWEEP_INTERVAL_MS = 10_000;

/** The most counters kept; a spray of distinct names or addresses evicts its own kind, not a lock. */
export const LOGON_FAILURE_ROWS = 10_000;

/**
 * Failed logons counted per client address and per account name (issue #6 §3). Each failure inside the window
 * slows the next answer (100 ms doubling, at most 2 s); at `logonFailureLimit` failures the address or name is
 * refused with 429 for `logonLockoutSeconds`, even with the right password, so the answer never confirms a guess.
 * Names are counted whether or not the account exists, so the lock does not tell that either. A successful
 * logon clears both counters. The counters are rows in the state store (`logon_failures`), bumped by one
 * statement each, so with several nodes on PostgreSQL a guesser spreading attempts over the nodes meets one limit
 * (issue #14). One throttle per application context (`AppContext.logonThrottle`).
 *
 * The table holds at most `maxRows` counters: beyond that the ones that protect least go first — unlocked before
 * locked, fewer failures before more, older before newer — so a spray of distinct names cannot grow the table
 * until the window sweeps it, nor push out a locked name or one a guesser has nearly locked.
 */
export class LogonThrottle {
  private lastSweep = 0;

  constructor(
    private readonly ctx: BaseContext,
    private readonly maxRows = LOGON_FAILURE_ROWS,
  ) {}

  private keys(address: string, user: string): string[] {
    return [`a:${address}`, `u:${user.toLowerCase()}`];
  }

  private get windowMs(): number {
    return this.ctx.config.logonLockoutSeconds * 1000;
  }

  /** Throws TOO_MANY_REQUESTS (with the seconds to wait) while the address or the name is locked. */
  async assertNotLocked(address: string, user: string): Promise<void> {
    if (this.ctx.config.logonFailureLimit === 0) return;
    const now = this.ctx.clock.now();
    const rows = await this.ctx.store.db.selectFrom('logon_failures').select('locked_until').where('key', 'in', this.keys(address, user)).execute();
    const until = Math.max(0, ...rows.map((r) => Number(r.locked_until)));
    if (until > now) throw new OpenemError('TOO_MANY_REQUESTS', 'Too many failed logons; try again later', { retryAfterSeconds: Math.ceil((until - now) / 1000) });
  }

  /** Counts a failure on every node's count; returns how long to hold the answer back. */
  async failed(address: string, user: string): Promise<number> {
    const limit = this.ctx.config.logonFailureLimit;
    if (limit === 0) return 0;
    const now = this.ctx.clock.now();
    const lockUntil = now + this.windowMs;
    // A counter whose window passed and whose lock ended starts again at one.
    const expired = sql<boolean>`logon_failures.locked_until <= ${now} and ${now} - logon_failures.first_at > ${this.windowMs}`;
    let worst = 0;
    for (const key of this.keys(address, user)) {
      const row = await this.ctx.store.db
        .insertInto('logon_failures')
        .values({ key, failures: 1, first_at: now, locked_until: limit <= 1 ? lockUntil : 0 })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            failures: sql`case when ${expired} then 1 else logon_failures.failures + 1 end`,
            first_at: sql`case when ${expired} then ${now} else logon_failures.first_at end`,
            locked_until: sql`case when ${expired} then ${limit <= 1 ? lockUntil : 0} when logon_failures.failures + 1 >= ${limit} then ${lockUntil} else logon_failures.locked_until end`,
          }),
        )
        .returning('failures')
        .executeTakeFirstOrThrow();
      worst = Math.max(worst, Number(row.failures));
    }
    await this.sweep(now);
    await this.evictBeyondCap(now);
    return worst <= 1 ? 0 : Math.min(2000, 100 * 2 ** (worst - 2));
  }

  async succeeded(address: string, user: string): Promise<void> {
    await this.ctx.store.db.deleteFrom('logon_failures').where('key', 'in', this.keys(address, user)).execute();
  }

  private async evictBeyondCap(now: number): Promise<void> {
    const db = this.ctx.store.db;
    const { rows } = await db.selectFrom('logon_failures').select((eb) => eb.fn.countAll<number | string>().as('rows')).executeTakeFirstOrThrow();
    const excess = Number(rows) - this.maxRows;
    if (excess <= 0) return;
    const victims = db
      .selectFrom('logon_failures')
      .select('key')
      .orderBy(sql`case when locked_until > ${now} then 1 else 0 end`)
      .orderBy('failures')
      .orderBy('first_at')
      .limit(excess);
    await db.deleteFrom('logon_failures').where('key', 'in', victims).execute();
  }

  /** Drops counters that no longer count, so guesses from many addresses do not grow the table for good. */
  private async sweep(now: number): Promise<void> {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    await this.ctx.store.db.deleteFrom('logon_failures').where('locked_until', '<=', now).where('first_at', '<', now - this.windowMs).execute();
  }
}
