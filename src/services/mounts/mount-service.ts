import { randomUUID } from 'node:crypto';
import { flrFolderPath } from './flr-folder.js';
import type { AppContext } from '../app-services.js';
import { conflict, isOpenemError, notFound } from '../../errors.js';
import type { TaskRecord } from '../../tasks/task-types.js';
import type { VmRestorePointRecord } from '../inventory/restore-point-records.js';
import { openRestorePointFilesystem } from '../guest-restore/restore-point-filesystem.js';
import { DriveLetterFolders } from '../../guestfs/drive-letter-folders.js';
import { openFuseFolder } from './fuse-folder.js';
import { rootsOf, type LiveMount } from './live-mount.js';
import { prepareFlrRoot, type FlrAccess } from './flr-root.js';
import {
  countMountRows,
  deleteMountRow,
  findMountRow,
  insertMountRow,
  mountNumbersOf,
  mountRowsUsedAt,
  removeDeadMountRows,
  setMountFolder,
  touchMountRow,
} from './mount-rows.js';
import { MountReplicas } from './mount-replicas.js';
import { finishMountSession, startMountSession } from './mount-session.js';
import type { FlrMounts, MountInfo, MountOsKind, OpenMount } from './mount-types.js';
import { RenderedListings } from './rendered-listings.js';

/** Touching the row on every FUSE read would write the store per block; once in this long is enough. */
const ROW_TOUCH_MS = 10_000;

/**
 * FLR mounts (seed 002, em-api.md "FLR mounts"): a restore point's guest filesystem opened straight from the
 * repository, served to the API and as a read-only FUSE folder, until DELETE, idle expiry or shutdown.
 * Every node serves every mount (issue #14): the `mounts` row says it exists; the node that made it holds its FUSE
 * folder and session, and any other node asked for it opens a replica — the same restore point read straight
 * from the repository, no folder — kept while the row lives and it is used. Use anywhere touches the row, so the
 * owner does not expire a mount read elsewhere; a DELETE anywhere removes the row, and the owner then closes its own.
 */
export class MountService implements FlrMounts {
  private readonly live = new Map<string, LiveMount>();
  /** Mounts accepted (task submitted) but not open yet: they count against the limit. */
  private pending = 0;
  private timer?: NodeJS.Timeout;
  /** Every open mount's folder listings as sent, bounded together. */
  readonly listings = new RenderedListings();
  private readonly replicas: MountReplicas;

  private constructor(private readonly ctx: AppContext, private readonly access: FlrAccess) {
    this.replicas = new MountReplicas(ctx, this.listings);
  }

  /** Makes the FLR root private (or group-shared), drops rows a previous process left, starts idle expiry, and unmounts everything on shutdown. */
  static async start(ctx: AppContext): Promise<MountService> {
    const service = new MountService(ctx, await prepareFlrRoot(ctx.config.flrRoot, ctx.config.flrGroup, ctx.config.dataDir));
    const removed = await removeDeadMountRows(ctx);
    if (removed) ctx.log.info({ removed }, 'removed mounts left by a previous run');
    const every = Math.max(250, Math.min(30_000, (ctx.config.mountIdleSeconds * 1000) / 4));
    service.timer = setInterval(() => void service.expireIdle().catch((e) => ctx.log.warn({ err: e }, 'mount expiry failed')), every);
    service.timer.unref();
    ctx.onShutdown.push(() => service.stop());
    return service;
  }

  /**
   * Accepts a mount and opens it in a task (Operation MountRestorePoint) that finishes with a Related link to
   * the mount. The limit is checked here, before the task, so a refusal is an immediate, clear error.
   *
   * OsKind: Veeam Backup & Replication "detects guest OS on the mounted backup automatically" (seed 002); the
   * client's OsKind (Windows by default) is only a hint. openem does the same: the guest is opened as what its
   * filesystems say it is (ext4: Linux) whatever OsKind says, and the requested kind is kept on the mount and
   * logged. Refusing Windows would break every client that sends no body, since Windows is the documented default.
   */
  async requestMount(rp: VmRestorePointRecord, requested: MountOsKind, accountId: string): Promise<TaskRecord> {
    const inUse = Math.max(this.live.size, await countMountRows(this.ctx)) + this.pending;
    if (inUse >= this.ctx.config.maxMounts) {
      throw conflict(
        `Too many mounted restore points: ${inUse} of ${this.ctx.config.maxMounts} allowed are in use. ` +
          'Unmount one (DELETE /vmRestorePoints/{ID}/mounts/{mountID}) or wait until an idle mount expires.',
      );
    }
    this.pending++;
    let released = false;
    const release = () => {
      if (!released) this.pending--;
      released = true;
    };
    try {
      return await this.ctx.tasks.submit(
        { operation: 'MountRestorePoint', kind: 'mount', accountId, payload: { vmRestorePointId: rp.id, osKind: requested } },
        async (run) => {
          try {
            const mount = await this.open(rp, requested, accountId);
            await run.setRelated({ kind: 'mount', vmRestorePointId: rp.id, mountNumber: mount.info.number });
            return { message: 'Ok' };
          } finally {
            release();
          }
        },
      );
    } catch (e) {
      release();
      throw e;
    }
  }

  private async open(rp: VmRestorePointRecord, requested: MountOsKind, accountId: string): Promise<LiveMount> {
    const reader = await openRestorePointFilesystem(this.ctx, rp.id);
    const id = randomUUID();
    let number: number;
    let roots: OpenMount['roots'];
    try {
      roots = await rootsOf(reader.volumes.addressable);
      number = await insertMountRow(this.ctx, { id, vmRestorePointId: rp.id, osKind: requested, accountId, folder: null });
    } catch (e) {
      await reader.close();
      throw e;
    }
    const now = this.ctx.clock.now();
    const info: MountInfo = {
      id, vmRestorePointId: rp.id, number, requestedOsKind: requested, detectedOsKind: reader.primary.osKind,
      vmName: rp.vmName, vmId: rp.vmId, accountId, createdAt: now, lastUsedAt: now,
    };
    const mount: LiveMount = { info, volumes: reader.volumes, roots, locate: reader.locate, renderedListings: this.listings.forMount(id), reader, rowTouchedAt: now, busy: 0 };
    this.live.set(id, mount);
    if (requested !== info.detectedOsKind) {
      this.ctx.log.info({ vmRestorePointId: rp.id, requested }, `mount requested as ${requested}; the guest is ${info.detectedOsKind} and is mounted as such`);
    }
    await this.attachFolder(mount);
    await startMountSession(this.ctx, mount);
    return mount;
  }

  /** Adds a line to the mount's restore session (downloads, restores started through the mount). */
  async recordActivity(mount: OpenMount, text: string): Promise<void> {
    const id = mount.info.restoreSessionId;
    if (id) await this.ctx.restoreSessions.log(id, text).catch((e) => this.ctx.log.warn({ err: e }, 'could not log mount activity'));
  }

  /** The FUSE folder is a convenience: when it cannot be served the mount stays usable through the API. */
  private async attachFolder(mount: LiveMount): Promise<void> {
    const path = this.folderPathFor(mount.info.vmName);
    try {
      // A Windows guest's volumes each show under their drive letter (`<vm>/C/…`); a Linux guest's root is the folder.
      const lettered = mount.reader.volumes.addressable.filter((v) => v.driveLetter);
      const fs = lettered.length ? new DriveLetterFolders(lettered) : mount.reader.primary.fs;
      mount.fuse = await openFuseFolder(path, fs, this.ctx.log, () => this.touch(mount), this.access);
      mount.info.folder = path;
      await setMountFolder(this.ctx, mount.info.id, path);
    } catch (e) {
      mount.info.folderUnavailable = `The guest files are not available as a folder: ${(e as Error).message}`;
      this.ctx.log.warn({ vmRestorePointId: mount.info.vmRestorePointId, folder: path, err: e }, 'FLR folder unavailable; the mount is served through the API only');
    }
  }

  /** `<flrRoot>/<vm-name>` (flrFolderPath: encoded when the name is no plain folder name; `_2` for a second mount). */
  private folderPathFor(vmName: string): string {
    const taken = new Set([...this.live.values()].map((m) => m.info.folder).filter((f): f is string => Boolean(f)));
    return flrFolderPath(this.ctx.config.flrRoot, vmName, taken);
  }

  private touch(mount: LiveMount): void {
    const now = this.ctx.clock.now();
    mount.info.lastUsedAt = now;
    if (now - mount.rowTouchedAt >= ROW_TOUCH_MS) {
      mount.rowTouchedAt = now;
      void touchMountRow(this.ctx, mount.info.id, now).catch((e) => this.ctx.log.warn({ err: e }, 'could not record mount use'));
    }
  }

  /**
   * One mount of a restore point. NOT_FOUND for another point's number or an ended mount. Reading files counts as
   * use; looking at the mount resource itself (`use: false`) does not, so a client polling it cannot keep it alive.
   */
  async get(vmRestorePointId: string, number: number, options: { use?: boolean; visible?: (ownerAccountId: string) => boolean } = {}): Promise<OpenMount> {
    const id = vmRestorePointId.toLowerCase();
    const absent = () => notFound(`Mount ${number} of VM restore point ${vmRestorePointId} was not found (unmounted, expired, or never created)`);
    let m: LiveMount | undefined = [...this.live.values()].find((x) => x.info.vmRestorePointId === id && x.info.number === number);
    // Unmounted through another node: its row is gone, so this node stops serving it at once.
    if (m && (await findMountRow(this.ctx, id, number))?.id !== m.info.id) {
      await this.close(m, 'unmounted on another node', { sessionEnded: true });
      m = undefined;
    }
    if (m && options.visible && !options.visible(m.info.accountId)) throw absent();
    if (!m) {
      const row = await findMountRow(this.ctx, id, number);
      await this.replicas.closeStale(id, number, row?.id);
      // Another account's mount is not opened (nor kept in use) for a caller who may not see it.
      if (!row || (options.visible && !options.visible(row.account_id))) throw absent();
      m = await this.replicas.of(row);
    }
    if (options.use !== false) this.touch(m);
    return m;
  }

  /** Keeps a mount from expiring while a download or restore reads from it; call the returned function when done. */
  hold(mount: OpenMount): () => void {
    const m = mount as LiveMount;
    m.busy++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      m.busy--;
      this.touch(m);
    };
  }

  /**
   * Every node's mounts of the restore point that `visible` allows (by the account that made each), this node
   * opening replicas of the others' — only of those: a mount the caller may not see is never opened for it.
   */
  async list(vmRestorePointId: string, visible: (ownerAccountId: string) => boolean): Promise<OpenMount[]> {
    const out: OpenMount[] = [];
    for (const { number, accountId } of await mountNumbersOf(this.ctx, vmRestorePointId.toLowerCase())) {
      if (!visible(accountId)) continue;
      try {
        out.push(await this.get(vmRestorePointId, number, { use: false, visible }));
      } catch (e) {
        if (!(isOpenemError(e) && e.code === 'NOT_FOUND')) throw e;
      }
    }
    return out.sort((a, b) => a.info.number - b.info.number);
  }

  async unmount(vmRestorePointId: string, number: number): Promise<void> {
    const m = (await this.get(vmRestorePointId, number, { use: false })) as LiveMount;
    if (this.live.has(m.info.id)) return this.close(m, 'unmounted');
    // Another node's: its row goes now (every node stops serving it), and its owner closes its folder on its next round.
    await deleteMountRow(this.ctx, m.info.id);
    await this.replicas.close(m);
    await finishMountSession(this.ctx, m, 'unmounted');
  }

  private async close(m: LiveMount, why: string, options: { sessionEnded?: boolean } = {}): Promise<void> {
    if (!this.live.delete(m.info.id)) return;
    this.listings.drop(m.info.id);
    await m.fuse?.close().catch((e) => this.ctx.log.warn({ err: e }, 'FUSE folder close failed'));
    await m.reader.close().catch((e) => this.ctx.log.warn({ err: e }, 'mount reader close failed'));
    await deleteMountRow(this.ctx, m.info.id);
    if (!options.sessionEnded) await finishMountSession(this.ctx, m, why);
    this.ctx.log.info({ vmRestorePointId: m.info.vmRestorePointId, number: m.info.number }, `mount ${why}`);
  }

  /** Ends mounts unused for `mountIdleSeconds` (API calls and FUSE reads count as use). */
  async expireIdle(): Promise<number> {
    const limit = this.ctx.clock.now() - this.ctx.config.mountIdleSeconds * 1000;
    const rows = this.live.size > 0 ? await mountRowsUsedAt(this.ctx, [...this.live.keys()]) : new Map<string, number>();
    let expired = 0;
    for (const m of [...this.live.values()]) {
      const usedAt = rows.get(m.info.id);
      // Unmounted through another node: its row is gone, and that node ended the session.
      if (usedAt === undefined) await this.close(m, 'unmounted on another node', { sessionEnded: true });
      else if (usedAt > m.info.lastUsedAt) m.info.lastUsedAt = usedAt; // read through another node's replica
      else if (m.busy === 0 && m.info.lastUsedAt < limit) {
        await this.close(m, 'expired after idle time');
        expired++;
      }
    }
    await this.replicas.closeIdle(limit);
    return expired;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const m of [...this.live.values()]) await this.close(m, 'unmounted at shutdown');
    await this.replicas.closeAll();
  }
}
