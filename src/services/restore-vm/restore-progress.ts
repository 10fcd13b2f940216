import type { Clock } from '../../context.js';

/** Progress is written to the store at most this often (a few times per second, issue #4 §3). */
const MIN_INTERVAL_MS = 300;

/**
 * A session's Progress 0-100 from units of work (bytes scanned and written). The total may grow as plans
 * become known (QuickRollback learns what to write only after reading a disk), so the percentage is kept
 * from going backwards; 100 is left for the session's end. One store write at a time, at most every 300 ms.
 */
export class RestoreProgress {
  private total = 0;
  private done = 0;
  private reported = 0;
  private lastAt = 0;
  private writing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly report: (percent: number) => Promise<void>,
    /** A resumed restore's session already shows this much; it is not reported lower. */
    startPercent = 0,
  ) {
    this.reported = startPercent;
  }

  addTotal(units: number): void {
    this.total += units;
  }

  add(units: number): void {
    this.done += units;
    const now = this.clock.now();
    if (this.writing || this.stopped || now - this.lastAt < MIN_INTERVAL_MS) return;
    const percent = this.total > 0 ? Math.min(99, Math.floor((this.done / this.total) * 100)) : 0;
    if (percent <= this.reported) return;
    this.reported = percent;
    this.lastAt = now;
    this.writing = this.report(percent)
      .catch(() => undefined)
      .finally(() => (this.writing = undefined));
  }

  /** No more writes; waits for the one in flight so the session's final state is written last. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.writing;
  }
}
