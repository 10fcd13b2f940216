import type { BaseContext } from '../../context.js';
import type { Principal } from './principal.js';

/**
 * Resolved logon sessions kept in memory so the hot path (every API request) does not query the store each
 * time. An entry is trusted for `REVALIDATE_MS`, then checked against the store again, so a logoff, password
 * change, role change or account removal made by another process (the CLI, another node on PostgreSQL) takes
 * effect within that time; the same changes made through this process drop the entries at once. One cache per
 * opened store, made and held beside it by the context that opens it (`createBaseContext`), so separate contexts
 * in one process — tests, the benchmark — never see each other's sessions.
 */
export const REVALIDATE_MS = 1_000;
const MAX_ENTRIES = 10_000;

export interface CachedSession {
  principal: Principal;
  /** When the store last confirmed the session. */
  checkedAt: number;
  /** Last use seen by this process (the store's `last_seen_at` is written at most every few seconds). */
  lastUsedAt: number;
}

export class SessionCache {
  private readonly byTokenHash = new Map<string, CachedSession>();

  get(tokenHash: string): CachedSession | undefined {
    return this.byTokenHash.get(tokenHash);
  }

  set(tokenHash: string, entry: CachedSession): void {
    if (this.byTokenHash.size >= MAX_ENTRIES && !this.byTokenHash.has(tokenHash)) {
      // Oldest first: Map iteration follows insertion order.
      const oldest = this.byTokenHash.keys().next().value;
      if (oldest !== undefined) this.byTokenHash.delete(oldest);
    }
    this.byTokenHash.set(tokenHash, entry);
  }

  delete(tokenHash: string): void {
    this.byTokenHash.delete(tokenHash);
  }

  dropSession(sessionId: string): void {
    for (const [k, v] of this.byTokenHash) if (v.principal.session.id === sessionId) this.byTokenHash.delete(k);
  }

  dropAccount(match: { id?: string; name?: string }): void {
    for (const [k, v] of this.byTokenHash) {
      const a = v.principal.account;
      if (a.id === match.id || a.name === match.name) this.byTokenHash.delete(k);
    }
  }
}

/** A context whose store's logon sessions are cached in this process: what logon and account changes run in. */
export interface AuthContext extends BaseContext {
  sessionCache: SessionCache;
}
