import { conflict } from '../../errors.js';

/**
 * Admission for VM restores on this node: at most `maxRestores` write at once (the rest wait, their
 * session staying Starting), and one VM is never restored twice at once. A second restore of a VM that
 * is being restored (or waiting) is refused when it is requested — 409 with the session holding the VM —
 * rather than queued: two queued restores of one VM would silently overwrite each other's result.
 * Scope: one process; nodes sharing a PostgreSQL store each have their own scheduler.
 */
export class RestoreScheduler {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly vmHolders = new Map<string, { label: string }>();

  constructor(private readonly maxRestores: () => number) {}

  /** Claims a VM for a restore, synchronously so two requests cannot both win; `release` gives it back. */
  reserveVm(vmId: string, vmName: string, holder: string): { release: () => void } {
    const current = this.vmHolders.get(vmId);
    if (current !== undefined) throw conflict(`VM ${vmName} is already being restored (${current.label}); wait for that restore to stop`);
    const token = { label: holder };
    this.vmHolders.set(vmId, token);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        if (this.vmHolders.get(vmId) === token) this.vmHolders.delete(vmId);
      },
    };
  }

  /** Re-labels a VM's reservation once the restore session exists (for the 409 message). */
  relabel(vmId: string, holder: string): void {
    const token = this.vmHolders.get(vmId);
    if (token) token.label = holder;
  }

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
