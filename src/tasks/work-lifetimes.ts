/** The lifetime of one piece of work a task started (a restore session, a backup job run). */
export interface WorkLifetime {
  /** Aborted when the server stops, or when the work is stopped the documented way (`stop(key)`). */
  readonly signal: AbortSignal;
  /**
   * Cuts the link to the task that started the work: from now on removing that task no longer stops it
   * (EM's restore task finishes once its session has started, seed 000/001; DELETE /tasks/{ID} "Removes a task").
   */
  detach(): void;
  /** The work is over: forget it. */
  end(): void;
}

/**
 * Work that outlives the task that started it. Each piece has its own AbortController, keyed by what it is
 * (`restore session <id>`, `job <id>`), so that only the documented way of stopping that thing reaches it —
 * never the removal of a task.
 */
export class WorkLifetimes {
  private readonly live = new Map<string, Set<AbortController>>();

  /** Starts a lifetime; until `detach`, aborting `startedBy` (the task's own work being stopped) aborts it too. */
  begin(key: string, options: { startedBy?: AbortSignal } = {}): WorkLifetime {
    const controller = new AbortController();
    let set = this.live.get(key);
    if (!set) this.live.set(key, (set = new Set()));
    set.add(controller);
    const startedBy = options.startedBy;
    const follow = () => controller.abort(startedBy?.reason);
    if (startedBy?.aborted) follow();
    else startedBy?.addEventListener('abort', follow, { once: true });
    const detach = () => startedBy?.removeEventListener('abort', follow);
    return {
      signal: controller.signal,
      detach,
      end: () => {
        detach();
        const s = this.live.get(key);
        s?.delete(controller);
        if (s && s.size === 0) this.live.delete(key);
      },
    };
  }

  /** Whether work under `key` is running in this process. */
  has(key: string): boolean {
    return this.live.has(key);
  }

  /** Aborts the work under `key`; false when none runs here. */
  stop(key: string, reason: Error): boolean {
    const set = this.live.get(key);
    if (!set) return false;
    for (const c of set) c.abort(reason);
    return true;
  }

  /** Aborts everything (the server is stopping). */
  stopAll(reason: Error): void {
    for (const set of this.live.values()) for (const c of set) c.abort(reason);
  }
}
