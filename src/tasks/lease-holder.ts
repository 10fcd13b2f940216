import { isProcessAlive } from '../host/process-alive.js';

/** How often a holder refreshes its leases (VM claims, repository leases). */
export const LEASE_HEARTBEAT_MS = 5_000;
/** A lease whose heartbeat is older than this belongs to a holder that died (on this host: whose pid may be reused). */
export const LEASE_STALE_MS = 60_000;

/** What every lease row records about its holder. */
export interface LeaseHolderRow {
  node_id: string;
  pid: number;
  host: string;
  heartbeat_at: number;
}

/** The hostname part of a recorded host identity, for messages. */
export function hostnameOf(identity: string): string {
  return identity.split('#')[0];
}

/**
 * The one rule for every lease in the state store: its holder is gone once its heartbeat is older than `staleMs`
 * (on any node: that is the lease's expiry), or at once when it ran in this kernel and pid namespace (`thisHost`,
 * see `thisHostIdentity`) under a pid that is no longer alive. A pid is never judged across hosts.
 */
export function holderIsGone(row: LeaseHolderRow, now: number, staleMs: number, thisHost: string): boolean {
  // A live pid on this host may be a reused one, so an old heartbeat makes the lease stale there too.
  if (now - Number(row.heartbeat_at) > staleMs) return true;
  return row.host === thisHost && !isProcessAlive(Number(row.pid));
}
