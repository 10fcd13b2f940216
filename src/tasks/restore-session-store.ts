import { randomUUID } from 'node:crypto';
import type { BaseContext } from '../context.js';
import { leftBehindBefore } from '../state/leftover-rows.js';
import type { RestoreSessionsTable } from '../state/schema.js';
import type { RestoreSessionRecord, RestoredVm } from './task-types.js';

const MAX_LOG_LINES = 500;
const STALE_MS = 30_000;

function toRecord(r: RestoreSessionsTable): RestoreSessionRecord {
  return {
    id: r.id,
    jobType: r.job_type as RestoreSessionRecord['jobType'],
    vmDisplayName: r.vm_display_name,
    vmRestorePointId: r.vm_restore_point_id,
    accountId: r.account_id,
    state: r.state as RestoreSessionRecord['state'],
    result: r.result as RestoreSessionRecord['result'],
    progress: Number(r.progress),
    failureMessage: r.failure_message ?? undefined,
    log: JSON.parse(r.log) as RestoreSessionRecord['log'],
    restoredVm: restoredVmOf(r.restored_obj_ref),
    createdAt: Number(r.created_at),
    endAt: r.end_at === null ? undefined : Number(r.end_at),
  };
}

const LEGACY_PLATFORMS: Record<string, RestoredVm['platform']> = { VMware: 'vsphere', HyperV: 'hyperv', vCloud: 'vcloud' };

/**
 * The stored restored VM: JSON of its ids, or (rows written before) a `urn:<Platform>:Vm:<root>.<id>` string,
 * which held the bare VM id after the root.
 */
function restoredVmOf(stored: string | null): RestoredVm | undefined {
  if (!stored) return undefined;
  if (stored.startsWith('{')) return JSON.parse(stored) as RestoredVm;
  const m = /^urn:(VMware|HyperV|vCloud):Vm:([^.]+)\.(.+)$/.exec(stored);
  return m ? { platform: LEGACY_PLATFORMS[m[1]], hierarchyRootId: m[2], vmId: m[3] } : undefined;
}

/**
 * Restore sessions (em-api.md "restoreSessions"): created Starting, Working with Progress while the work
 * runs, Stopped with a Result at the end; each keeps a log of what it did.
 */
export class RestoreSessionStore {
  constructor(private readonly ctx: BaseContext) {}

  async create(input: { jobType: RestoreSessionRecord['jobType']; vmDisplayName: string; vmRestorePointId: string; accountId: string }): Promise<RestoreSessionRecord> {
    const now = this.ctx.clock.now();
    const row: RestoreSessionsTable = {
      id: randomUUID(),
      // The session's subject; its EM name (`FLR_[vm]@yyyy-MM-dd HH:mm:ss`) is written by the API from kind and time.
      name: input.vmDisplayName,
      job_type: input.jobType,
      vm_display_name: input.vmDisplayName,
      vm_restore_point_id: input.vmRestorePointId,
      account_id: input.accountId,
      state: 'Starting',
      result: 'None',
      progress: 0,
      failure_message: null,
      log: JSON.stringify([{ at: now, text: 'Restore session created' }]),
      restored_obj_ref: null,
      node_id: this.ctx.nodeId,
      heartbeat_at: now,
      created_at: now,
      end_at: null,
    };
    await this.ctx.store.db.insertInto('restore_sessions').values(row).execute();
    return toRecord(row);
  }

  async get(id: string): Promise<RestoreSessionRecord | undefined> {
    const r = await this.ctx.store.db.selectFrom('restore_sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toRecord(r) : undefined;
  }

  async list(): Promise<RestoreSessionRecord[]> {
    const rows = await this.ctx.store.db.selectFrom('restore_sessions').selectAll().orderBy('created_at', 'desc').execute();
    return rows.map(toRecord);
  }

  async update(id: string, changes: { state?: RestoreSessionRecord['state']; progress?: number; restoredVm?: RestoredVm; log?: string }): Promise<void> {
    const set: Partial<RestoreSessionsTable> = { heartbeat_at: this.ctx.clock.now() };
    if (changes.state) set.state = changes.state;
    if (changes.progress !== undefined) set.progress = Math.max(0, Math.min(100, Math.floor(changes.progress)));
    if (changes.restoredVm) set.restored_obj_ref = JSON.stringify(changes.restoredVm);
    if (changes.log) set.log = await this.appendedLog(id, changes.log);
    await this.ctx.store.db.updateTable('restore_sessions').set(set).where('id', '=', id).execute();
  }

  async log(id: string, text: string): Promise<void> {
    await this.update(id, { log: text });
  }

  async finish(id: string, result: 'Success' | 'Warning' | 'Failed', text: string, failureMessage?: string): Promise<void> {
    const now = this.ctx.clock.now();
    const set: Partial<RestoreSessionsTable> = {
      state: 'Stopped',
      result,
      end_at: now,
      heartbeat_at: now,
      failure_message: failureMessage ?? null,
      log: await this.appendedLog(id, text),
    };
    if (result === 'Success') set.progress = 100;
    await this.ctx.store.db.updateTable('restore_sessions').set(set).where('id', '=', id).execute();
  }

  private async appendedLog(id: string, text: string): Promise<string> {
    const r = await this.ctx.store.db.selectFrom('restore_sessions').select('log').where('id', '=', id).executeTakeFirst();
    const log = r ? (JSON.parse(r.log) as RestoreSessionRecord['log']) : [];
    log.push({ at: this.ctx.clock.now(), text });
    return JSON.stringify(log.slice(-MAX_LOG_LINES));
  }

  /** Refreshes the heartbeat of the open sessions this node runs, so other nodes can tell they are not left behind. */
  async beat(): Promise<void> {
    await this.ctx.store.db.updateTable('restore_sessions').set({ heartbeat_at: this.ctx.clock.now() }).where('node_id', '=', this.ctx.nodeId).where('state', '!=', 'Stopped').execute();
  }

  /** Open sessions of other nodes whose heartbeat is older than the timeout: their node stopped (or died). */
  async leftBehind(): Promise<{ id: string; nodeId: string }[]> {
    const rows = await this.ctx.store.db
      .selectFrom('restore_sessions')
      .select(['id', 'node_id'])
      .where('state', '!=', 'Stopped')
      .where('node_id', '!=', this.ctx.nodeId)
      .where('heartbeat_at', '<', this.ctx.clock.now() - STALE_MS)
      .execute();
    return rows.map((r) => ({ id: r.id, nodeId: r.node_id }));
  }

  /**
   * Makes an open session this node's (it resumes or fails it), if it is still `fromNode`'s: one conditional
   * statement, so of nodes taking a left-behind session over at once exactly one gets it. False for a session
   * already this node's: it runs (or is being resumed) here, and must not be started twice.
   */
  async takeOver(id: string, fromNode?: string): Promise<boolean> {
    const from = fromNode ?? (await this.ctx.store.db.selectFrom('restore_sessions').select('node_id').where('id', '=', id).executeTakeFirst())?.node_id;
    if (from === undefined) return false;
    if (from === this.ctx.nodeId) return false;
    const r = await this.ctx.store.db
      .updateTable('restore_sessions')
      .set({ node_id: this.ctx.nodeId, heartbeat_at: this.ctx.clock.now() })
      .where('id', '=', id)
      .where('node_id', '=', from)
      .where('state', '!=', 'Stopped')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * On start: sessions an unclean stop left open are Stopped/Failed with the reason, never Working forever —
   * except those in `resuming`, whose restores this start continues (issue #9 §6).
   */
  async recover(reason: string, options: { resuming?: string[] } = {}): Promise<string[]> {
    const now = this.ctx.clock.now();
    const q = this.ctx.store.db
      .selectFrom('restore_sessions')
      .selectAll()
      .where('state', '!=', 'Stopped')
      .where('heartbeat_at', '<', leftBehindBefore(this.ctx.store, now - STALE_MS));
    const resuming = new Set(options.resuming ?? []);
    const rows = (await q.execute()).filter((r) => !resuming.has(r.id));
    for (const r of rows) await this.finish(r.id, 'Failed', reason, reason);
    return rows.map((r) => r.id);
  }
}
