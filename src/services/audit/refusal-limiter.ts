import type { Clock } from '../../context.js';

/**
 * Refusals (401/403) are audited, but a client hammering the API without a session must not be able to grow
 * the audit table without bound: at most `perMinute` refusals per address are recorded each minute; the
 * first one over the limit is recorded with a note, the rest are counted only in the metrics.
 */
export class RefusalLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly perMinute = 30,
  ) {}

  /** 'record', 'record-last' (the one that hits the limit) or 'skip'. */
  admit(address: string): 'record' | 'record-last' | 'skip' {
    const now = this.clock.now();
    let w = this.windows.get(address);
    if (!w || now - w.start >= 60_000 || now < w.start) {
      if (this.windows.size > 10_000) this.windows.clear();
      w = { start: now, count: 0 };
      this.windows.set(address, w);
    }
    w.count++;
    if (w.count < this.perMinute) return 'record';
    return w.count === this.perMinute ? 'record-last' : 'skip';
  }
}
