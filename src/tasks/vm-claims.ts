import type { BaseContext } from '../context.js';
import { conflict } from '../errors.js';
import type { VmClaimsTable } from '../state/schema.js';
import { isUniqueViolation } from '../state/store-errors.js';
import { holderIsGone, hostnameOf, LEASE_HEARTBEAT_MS, LEASE_STALE_MS } from './lease-holder.js';
import { thisHostIdentity } from '../host/host-identity.js';

/**
 * The kinds of work that change or read a VM's disks, or its power state and restore-incomplete mark while they
 * do, and so exclude each other (issue 9 §4). Mounts are not among them. `power` is the CLI's power-on, power-off
 * and restore-abandon.
 */
export type VmWorkKind = 'backup' | 'vm-restore' | 'quick-rollback' | 'guest-file-restore' | 'power';

const KIND_WORDS: Record<VmWorkKind, string> = {
  backup: 'a backup',
  'vm-restore': 'an entire VM restore',
  'quick-rollback': 'a QuickRollback restore',
  'guest-file-restore': 'a guest file restore',
  power: 'a power or restore-abandon change',
};

/** How often a holder refreshes its claims. */
export const CLAIM_HEARTBEAT_MS = LEASE_HEARTBEAT_MS;
/** A claim whose heartbeat is older than this belongs to a holder that died (on this host: whose pid may be reused). */
export const CLAIM_STALE_MS = LEASE_STALE_MS;
const WAIT_POLL_MS = 250;

/** Why a holder's work is aborted when another process took its claim over: its work must stop and fail, not resume. */
export class VmClaimLost extends Error {
  constructor(vmName: string) {
    super(`this openem process lost its claim of VM ${vmName}: another openem process took it over, believing this one dead`);
    this.name = 'VmClaimLost';
  }
}

/** A VM held for one piece of work. */
export interface VmClaim {
  readonly vmId: string;
  readonly kind: VmWorkKind;
  /** Aborted if another process took the claim over because this one looked dead: stop writing. */
  readonly lost: AbortSignal;
  /** Names what holds the VM once it is known (`restore session <id>`), for the next one's refusal. */
  relabel(holder: string): Promise<void>;
  /** Gives the VM back; safe to call more than once. */
  release(): Promise<void>;
}

export interface VmClaimsOptions {
  heartbeatMs?: number;
  staleMs?: number;
  /** This process's host identity as the claims record it (tests pose as other processes and hosts); see `thisHostIdentity`. */
  host?: string;
  pid?: number;
}

/**
 * One piece of work per VM at a time, whatever its kind, across processes (the CLI and the server share the
 * state store) and across nodes on one PostgreSQL: a row per held VM, claimed by an insert that fails on the
 * primary key, refreshed by a heartbeat, deleted on release. A claim whose holder is gone — a heartbeat older
 * than `staleMs`, or on this host (same kernel and pid namespace) a dead pid, the rule of every lease
 * (`holderIsGone`) — is taken over.
 */
export class VmClaims {
  private readonly held = new Map<string, { controller: AbortController; vmName: string }>();
  private timer?: NodeJS.Timeout;
  private readonly heartbeatMs: number;
  private readonly staleMs: number;
  private readonly host: string;
  private readonly pid: number;

  constructor(
    private readonly ctx: BaseContext,
    options: VmClaimsOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? CLAIM_HEARTBEAT_MS;
    this.staleMs = options.staleMs ?? CLAIM_STALE_MS;
    this.host = options.host ?? thisHostIdentity();
    this.pid = options.pid ?? process.pid;
  }

  /**
   * Claims `vm` for `kind` of work, or throws CONFLICT naming what holds it. With `waitMs`, waits up to that
   * long for the holder to finish first (for work that may wait, such as a backup behind a restore).
   */
  async claim(vm: { id: string; name: string }, kind: VmWorkKind, holder: string, options: { waitMs?: number; signal?: AbortSignal } = {}): Promise<VmClaim> {
    const deadline = this.ctx.clock.now() + (options.waitMs ?? 0);
    for (;;) {
      const current = await this.tryClaim(vm, kind, holder);
      if (!current) return this.handle(vm, kind);
      const left = deadline - this.ctx.clock.now();
      if (left <= 0) throw conflict(busyMessage(vm.name, current, kind));
      options.signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, Math.min(WAIT_POLL_MS, left)));
    }
  }

  /** What holds a VM now, if anything. */
  async holderOf(vmId: string): Promise<VmClaimsTable | undefined> {
    return this.ctx.store.db.selectFrom('vm_claims').selectAll().where('vm_id', '=', vmId).executeTakeFirst();
  }

  /** Whether nothing holds the VM, or only a holder that is gone (dead on this host, or silent past the timeout). */
  async isFree(vmId: string): Promise<boolean> {
    const row = await this.holderOf(vmId);
    return !row || this.isStale(row, this.ctx.clock.now());
  }

  /** Stops the heartbeat (shutdown, after the work has released its claims). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Inserts the claim; answers the row that holds the VM when it is taken and not stale. */
  private async tryClaim(vm: { id: string; name: string }, kind: VmWorkKind, holder: string): Promise<VmClaimsTable | undefined> {
    const db = this.ctx.store.db;
    for (;;) {
      const now = this.ctx.clock.now();
      try {
        await db
          .insertInto('vm_claims')
          .values({ vm_id: vm.id, vm_name: vm.name, kind, holder, node_id: this.ctx.nodeId, pid: this.pid, host: this.host, claimed_at: now, heartbeat_at: now })
          .execute();
        return undefined;
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
      }
      const row = await this.holderOf(vm.id);
      if (!row) continue; // released in between: try again
      if (!this.isStale(row, now)) return row;
      this.ctx.log.warn({ vm: vm.name, holder: row.holder, host: row.host, pid: row.pid, node: row.node_id }, 'taking over the claim of a VM whose holder is gone');
      // Only the stale row goes: a holder that beat or re-claimed meanwhile keeps its claim.
      await db.deleteFrom('vm_claims').where('vm_id', '=', vm.id).where('node_id', '=', row.node_id).where('heartbeat_at', '=', row.heartbeat_at).execute();
    }
  }

  private isStale(row: VmClaimsTable, now: number): boolean {
    return holderIsGone(row, now, this.staleMs, this.host);
  }

  private handle(vm: { id: string; name: string }, kind: VmWorkKind): VmClaim {
    const vmId = vm.id;
    const entry = { controller: new AbortController(), vmName: vm.name };
    this.held.set(vmId, entry);
    if (!this.timer) {
      this.timer = setInterval(() => void this.heartbeat().catch((e) => this.ctx.log.warn({ err: e }, 'VM claim heartbeat failed')), this.heartbeatMs);
      this.timer.unref();
    }
    const db = this.ctx.store.db;
    let released = false;
    return {
      vmId,
      kind,
      lost: entry.controller.signal,
      relabel: async (holder) => {
        if (released) return;
        await db.updateTable('vm_claims').set({ holder }).where('vm_id', '=', vmId).where('node_id', '=', this.ctx.nodeId).execute();
      },
      release: async () => {
        if (released) return;
        released = true;
        if (this.held.get(vmId) === entry) this.held.delete(vmId);
        if (this.held.size === 0) this.stop();
        await db.deleteFrom('vm_claims').where('vm_id', '=', vmId).where('node_id', '=', this.ctx.nodeId).execute();
      },
    };
  }

  /** Refreshes this process's claims and notices any taken over; runs every `heartbeatMs` while claims are held. */
  async heartbeat(): Promise<void> {
    const entries = [...this.held.entries()];
    if (entries.length === 0) return;
    const ids = entries.map(([id]) => id);
    const db = this.ctx.store.db;
    await db.updateTable('vm_claims').set({ heartbeat_at: this.ctx.clock.now() }).where('node_id', '=', this.ctx.nodeId).where('vm_id', 'in', ids).execute();
    const mine = new Set((await db.selectFrom('vm_claims').select('vm_id').where('node_id', '=', this.ctx.nodeId).where('vm_id', 'in', ids).execute()).map((r) => r.vm_id));
    for (const [id, entry] of entries) {
      if (mine.has(id) || this.held.get(id) !== entry) continue;
      this.held.delete(id);
      this.ctx.log.error({ vm: id }, 'another process took over the claim of this VM');
      entry.controller.abort(new VmClaimLost(entry.vmName));
    }
  }
}

/** The refusal: which VM, what holds it, where, since when, and what was asked. */
function busyMessage(vmName: string, row: VmClaimsTable, wanted: VmWorkKind): string {
  const kind = KIND_WORDS[row.kind as VmWorkKind] ?? row.kind;
  const since = new Date(Number(row.claimed_at)).toISOString();
  return `VM ${vmName} is busy: ${kind} holds it (${row.holder}, on ${hostnameOf(row.host)} pid ${row.pid} since ${since}); ${KIND_WORDS[wanted]} of it can start once that has finished`;
}
