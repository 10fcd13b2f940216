import type { AppContext } from '../app-services.js';
import { findVmRestorePoint } from '../inventory/restore-point-records.js';
import { openRestorePointFilesystem } from '../guest-restore/restore-point-filesystem.js';
import { rootsOf, type LiveMount } from './live-mount.js';
import type { MountRow } from './mount-rows.js';
import type { MountInfo, MountOsKind } from './mount-types.js';
import type { RenderedListings } from './rendered-listings.js';

/**
 * The mounts other nodes made, opened here to serve them (issue #14): the same restore point read straight from
 * the repository, no folder and no session of their own, kept while their row lives and they are used.
 */
export class MountReplicas {
  /** By row id; those being opened by row id too, so that requests at once open one. */
  private readonly open = new Map<string, LiveMount>();
  private readonly opening = new Map<string, Promise<LiveMount>>();

  constructor(
    private readonly ctx: AppContext,
    private readonly listings: RenderedListings,
  ) {}

  /** The replica of a mount another node made, opened from the repository if it is not open yet. */
  of(row: MountRow): Promise<LiveMount> {
    const replica = this.open.get(row.id);
    if (replica) return Promise.resolve(replica);
    const already = this.opening.get(row.id);
    if (already) return already;
    const p = this.openReplica(row).finally(() => this.opening.delete(row.id));
    this.opening.set(row.id, p);
    return p;
  }

  private async openReplica(row: MountRow): Promise<LiveMount> {
    const reader = await openRestorePointFilesystem(this.ctx, row.vm_restore_point_id);
    try {
      const roots = await rootsOf(reader.volumes.addressable);
      const rp = await findVmRestorePoint(this.ctx, row.vm_restore_point_id);
      const now = this.ctx.clock.now();
      const info: MountInfo = {
        id: row.id, vmRestorePointId: row.vm_restore_point_id, number: Number(row.number), requestedOsKind: row.os_kind as MountOsKind,
        detectedOsKind: reader.primary.osKind, vmName: rp?.vmName ?? '', vmId: rp?.vmId ?? '', accountId: row.account_id,
        createdAt: Number(row.created_at), lastUsedAt: now,
        ...(row.folder ? { folder: row.folder } : {}),
        ...(row.restore_session_id ? { restoreSessionId: row.restore_session_id } : {}),
      };
      const m: LiveMount = { info, volumes: reader.volumes, roots, locate: reader.locate, renderedListings: this.listings.forMount(row.id), reader, rowTouchedAt: 0, busy: 0 };
      this.open.set(row.id, m);
      this.ctx.log.info({ vmRestorePointId: info.vmRestorePointId, number: info.number, node: row.node_id }, "serving another node's mount here");
      return m;
    } catch (e) {
      await reader.close();
      throw e;
    }
  }

  /** Closes the replicas of a restore point's mount `number` other than the one of row `currentRowId` (a mount unmounted and made again). */
  async closeStale(vmRestorePointId: string, number: number, currentRowId: string | undefined): Promise<void> {
    for (const r of [...this.open.values()]) {
      if (r.info.vmRestorePointId === vmRestorePointId && r.info.number === number && r.info.id !== currentRowId) await this.close(r);
    }
  }

  async close(m: LiveMount): Promise<void> {
    if (!this.open.delete(m.info.id)) return;
    this.listings.drop(m.info.id);
    await m.reader.close().catch((e) => this.ctx.log.warn({ err: e }, 'mount replica reader close failed'));
  }

  /** Closes the replicas not read from since `limit` (epoch ms) and not busy. */
  async closeIdle(limit: number): Promise<void> {
    for (const r of [...this.open.values()]) if (r.busy === 0 && r.info.lastUsedAt < limit) await this.close(r);
  }

  async closeAll(): Promise<void> {
    for (const r of [...this.open.values()]) await this.close(r);
  }
}
