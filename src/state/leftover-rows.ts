import type { Store } from './open-store.js';

/**
 * At a node's start, the time before which another holder's last sign of life (a heartbeat, a lease's expiry, a
 * last use) marks a row as left behind by a stopped process. One SQLite file serves one server (the CLI runs no
 * background work of its own), so every row held there at a start was left by a stopped process: the answer is
 * the end of time. On PostgreSQL several nodes share the store, so a row is left behind only once its sign of
 * life is older than `sharedStoreCutoff`; the caller's own live rows are never older than that.
 */
export function leftBehindBefore(store: Store, sharedStoreCutoff: number): number {
  return store.dialect === 'postgres' ? sharedStoreCutoff : Number.MAX_SAFE_INTEGER;
}
