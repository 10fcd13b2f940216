import type { BaseContext } from '../../context.js';
import { NamedLeases } from '../../tasks/named-leases.js';

const SLOT = 'restore-slot:';
/** How often a waiting restore looks for a slot another node gave back (a slot given back here wakes it at once). */
const POLL_MS = 250;

/**
 * Admission for VM restores across every node on the state store: at most `maxRestores` write at once in the
 * whole cluster; the rest wait, their session staying Starting. Each slot is a named lease (`restore-slot:<n>`,
 * `named-leases.ts`), so a node that dies holding one loses it by the rule of every lease and its slot comes back.
 * That one VM is never worked on twice at once is `VmClaims`' job.
 */
export class RestoreScheduler {
  private running = 0;
  private readonly wakers = new Set<() => void>();

  constructor(
    private readonly maxRestores: () => number,
    private readonly leases: NamedLeases,
    private readonly pollMs = POLL_MS,
  ) {}

  static forContext(ctx: BaseContext): RestoreScheduler {
    return new RestoreScheduler(() => ctx.config.maxRestores, new NamedLeases(ctx));
  }

  /** Slots this node holds. */
  get active(): number {
    return this.running;
  }

  /**
   * Waits for a free slot of the cluster; `onWait` runs once if none is free at first. Rejects if `signal` aborts
   * while waiting. The answer gives the slot back.
   */
  async acquireSlot(signal?: AbortSignal, onWait?: () => Promise<void>): Promise<() => Promise<void>> {
    let waited = false;
    for (;;) {
      signal?.throwIfAborted();
      const slots = Math.max(1, this.maxRestores());
      for (let i = 0; i < slots; i++) {
        const r = await this.leases.take(`${SLOT}${i}`, 'a VM restore');
        if ('lease' in r) {
          this.running++;
          let done = false;
          return async () => {
            if (done) return;
            done = true;
            this.running--;
            try {
              await r.lease.release();
            } finally {
              for (const wake of [...this.wakers]) wake();
            }
          };
        }
      }
      if (!waited) {
        waited = true;
        await onWait?.();
      }
      await this.nextChance(signal);
    }
  }

  /** Stops the slots' heartbeat (shutdown, after the restores have given theirs back). */
  stop(): void {
    this.leases.stop();
  }

  private nextChance(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        done();
        reject(signal!.reason);
      };
      const timer = setTimeout(done, this.pollMs);
      this.wakers.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
