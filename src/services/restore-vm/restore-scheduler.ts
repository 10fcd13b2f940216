/**
 * Admission for VM restores on this node: at most `maxRestores` write at once; the rest wait, their session
 * staying Starting. That one VM is never worked on twice at once is `VmClaims`' job (across processes and nodes).
 */
export class RestoreScheduler {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly maxRestores: () => number) {}

  get active(): number {
    return this.running;
  }

  /** Waits for a free slot (first come, first served); rejects if `signal` aborts while waiting. */
  async acquireSlot(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.running < Math.max(1, this.maxRestores())) {
      this.running++;
      return this.slotRelease();
    }
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(wake);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason);
      };
      this.waiting.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    // The releasing restore handed its slot over without decrementing.
    return this.slotRelease();
  }

  private slotRelease(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }
}
