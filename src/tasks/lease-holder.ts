import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
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

/**
 * Names the kernel and pid namespace this process runs in: hostname, boot id and pid namespace, separated by `#`.
 * Cloned VMs and containers share a hostname, so a hostname alone cannot tell whether a lease's pid is one
 * this process can probe; two processes see each other's pids only with the same boot id and pid namespace.
 */
export function thisHostIdentity(): string {
  return [hostname(), readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()), readOr(() => readlinkSync('/proc/self/ns/pid'))].join('#');
}

function readOr(read: () => string): string {
  try {
    return read();
  } catch {
    return 'unknown'; // not Linux: the hostname alone names the host, as before
  }
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
