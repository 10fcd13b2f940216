import type { BaseContext } from '../context.js';
import type { LeasesTable } from '../state/schema.js';
import { OpenemError } from '../errors.js';
import { isUniqueViolation } from '../state/store-errors.js';
import { holderIsGone, LEASE_HEARTBEAT_MS, LEASE_STALE_MS } from './lease-holder.js';
import { thisHostIdentity } from '../host/host-identity.js';

export interface NamedLeasesOptions {
  heartbeatMs?: number;
  staleMs?: number;
  /** This process's host identity as the leases record it (tests pose as other processes and hosts). */
  host?: string;
  pid?: number;
}

/** A named lease this process holds. */
export interface NamedLease {
  readonly name: string;
  /** Gives the lease back (only if this process still holds it); safe to call more than once. */
  release(): Promise<void>;
  /** Refreshes the lease if this process still holds the very lease it took; CONFLICT once it was taken over. */
  confirm(): Promise<void>;
}

/**
 * Leases on names (`repository-gc`, `repository-backup:<vm id>`) in the state store's `leases` table, shared by
 * every process and node on the store: taken by an insert that fails on the primary key, refreshed by a
 * heartbeat, deleted on release, taken over once the holder is gone by the rule of every lease (`holderIsGone`).
 * VM claims (`vm-claims.ts`) follow the same rule in their own table.
 */
export class NamedLeases {
  private readonly held = new Set<string>();
  private timer?: NodeJS.Timeout;
  private readonly heartbeatMs: number;
  private readonly staleMs: number;
  private readonly host: string;
  private readonly pid: number;

  constructor(
    private readonly ctx: BaseContext,
    options: NamedLeasesOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? LEASE_HEARTBEAT_MS;
    this.staleMs = options.staleMs ?? LEASE_STALE_MS;
    this.host = options.host ?? thisHostIdentity();
    this.pid = options.pid ?? process.pid;
  }

  /** Takes `name` for `holder`; answers the live row that holds it instead when it is taken. */
  async take(name: string, holder: string): Promise<{ lease: NamedLease } | { heldBy: LeasesTable }> {
    const db = this.ctx.store.db;
    for (;;) {
      const now = this.ctx.clock.now();
      try {
        await db.insertInto('leases').values({ name, holder, node_id: this.ctx.nodeId, pid: this.pid, host: this.host, acquired_at: now, heartbeat_at: now }).execute();
        return { lease: this.handle(name, now) };
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
      }
      const row = await db.selectFrom('leases').selectAll().where('name', '=', name).executeTakeFirst();
      if (!row) continue; // released in between: try again
      if (!holderIsGone(row, now, this.staleMs, this.host)) return { heldBy: row };
      this.ctx.log.warn({ lease: name, holder: row.holder, host: row.host, pid: row.pid, node: row.node_id }, 'taking over a lease whose holder is gone');
      // Only the stale row goes: a holder that beat meanwhile keeps its lease.
      await db.deleteFrom('leases').where('name', '=', name).where('node_id', '=', row.node_id).where('heartbeat_at', '=', row.heartbeat_at).execute();
    }
  }

  /** The live leases whose names start with `prefix` (a gone holder's lease is no longer one). */
  async live(prefix: string): Promise<LeasesTable[]> {
    const now = this.ctx.clock.now();
    const rows = await this.ctx.store.db.selectFrom('leases').selectAll().where('name', 'like', likeAtLeast(prefix)).execute();
    return rows.filter((r) => r.name.startsWith(prefix) && !holderIsGone(r, now, this.staleMs, this.host));
  }

  /** Refreshes this process's leases; runs every `heartbeatMs` while it holds any. */
  async heartbeat(): Promise<void> {
    const names = [...this.held];
    if (names.length === 0) return;
    await this.ctx.store.db.updateTable('leases').set({ heartbeat_at: this.ctx.clock.now() }).where('node_id', '=', this.ctx.nodeId).where('name', 'in', names).execute();
  }

  /** Stops the heartbeat (shutdown, after the work has released its leases). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private handle(name: string, acquiredAt: number): NamedLease {
    this.held.add(name);
    if (!this.timer) {
      this.timer = setInterval(() => void this.heartbeat().catch((e) => this.ctx.log.warn({ err: e }, 'lease heartbeat failed')), this.heartbeatMs);
      this.timer.unref();
    }
    let released = false;
    return {
      name,
      release: async () => {
        if (released) return;
        released = true;
        this.held.delete(name);
        if (this.held.size === 0) this.stop();
        await this.ctx.store.db.deleteFrom('leases').where('name', '=', name).where('node_id', '=', this.ctx.nodeId).execute();
      },
      confirm: async () => {
        // Lost if the row we inserted is gone (taken over) or its heartbeat is older than the timeout: others
        // already judge such a holder gone (gc runs beside a backup lease it sees as stale) even before deleting it.
        const now = this.ctx.clock.now();
        const r = await this.ctx.store.db
          .updateTable('leases')
          .set({ heartbeat_at: now })
          .where('name', '=', name)
          .where('node_id', '=', this.ctx.nodeId)
          .where('acquired_at', '=', acquiredAt)
          .where('heartbeat_at', '>=', now - this.staleMs)
          .executeTakeFirst();
        if (released || Number(r.numUpdatedRows) !== 1) {
          throw new OpenemError('CONFLICT', `the lease ${name} was lost (taken over after missed heartbeats); the work it guarded must not be committed`);
        }
      },
    };
  }
}

/** A LIKE pattern matching at least every name that starts with `prefix` (its wildcards dropped; rows are then filtered exactly). */
function likeAtLeast(prefix: string): string {
  return `${prefix.replace(/[%_\\]/g, '')}%`;
}
