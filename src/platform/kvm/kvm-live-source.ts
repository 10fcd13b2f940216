import { lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, OpenemError } from '../../errors.js';
import type { BlockSource, ChainBreak, ChangeTracking, Extent, SnapshotConsistency } from '../../disks/block-source.js';
import { NbdClient } from './nbd-client.js';
import { mapExtents } from './nbd-export.js';
import { pruneLibvirtCheckpoints } from './checkpoint-retention.js';
import { freezeGuest } from './guest-freeze.js';
import { blockTargets } from './domain-xml.js';
import type { Libvirt } from './libvirt.js';
import { BACKUP_SCRATCH, BACKUP_SOCKET, makeBackupDir, qemuIdentityOf, type QemuIdentity, type QemuProcesses } from './backup-folder.js';

/** The metadata context of an incremental pull backup's changes of disk `target`. */
function dirtyContext(target: string): string {
  return `qemu:dirty-bitmap:backup-${target}`;
}

/** The backup job of a running domain, as long as this source reads it. */
interface PullBackup {
  socket: string;
  dir: string;
  client: NbdClient;
  /** The checkpoint the job's dirty-bitmap context counts from, when it is an incremental job. */
  incrementalFrom?: string;
}

/**
 * A running KVM VM's disk, read live through a libvirt pull-mode backup (backup-begin): QEMU exports a
 * point-in-time view of the disk over NBD on a private socket. Opened for a backup (with `checkpoint`), a new
 * libvirt checkpoint (a persistent dirty bitmap) starts recording the guest's later writes, and closing drops
 * openem's older checkpoints of the disk but the one this opening counted from (checkpoint-retention.ts); other
 * openings leave no checkpoint behind. The job starts on first use: asked first
 * for the changes since an earlier checkpoint libvirt still has, it is an incremental job whose
 * `qemu:dirty-bitmap:backup-<disk>` context says which extents are dirty. The guest's filesystems are frozen
 * through its QEMU guest agent for the instant the job starts, when it has one (guest-freeze.ts); the view is
 * crash-consistent otherwise, and `consistency` says which.
 */
export class KvmLiveSource implements BlockSource {
  readonly changeTracking: ChangeTracking;
  private job: Promise<PullBackup> | undefined;
  /** QEMU's identity and the fresh backup folder the job's socket and scratch file go in. */
  private prepared: Promise<{ qemu: QemuIdentity; dir: string }> | undefined;
  private extents: Promise<Extent[]> | undefined;
  /** The earlier checkpoint this opening was asked to count from, kept when older ones go. */
  private countedFrom: string | undefined;
  private taken: SnapshotConsistency | undefined;
  /** The domain's checkpoints as listed when libvirt refused an incremental job: what closing prunes from, not listed again. */
  private checkpointsAtStart: string[] | undefined;
  /** The listing and pruning of older checkpoints begun beside the reads of an incremental job (settles, never fails). */
  private pruning: Promise<void> | undefined;
  /** Set by close: no job begins after it. */
  private closed = false;

  private constructor(
    private readonly libvirt: Libvirt,
    private readonly domainUuid: string,
    private readonly target: string,
    readonly size: number,
    checkpoint: string | undefined,
    private readonly domainXml: string | undefined,
    private readonly qemuProcesses: QemuProcesses | undefined,
  ) {
    this.changeTracking = { ...(checkpoint ? { checkpoint } : {}), changedBlocksSince: (since) => this.changedSince(since) };
  }

  /** Set once the job began: frozen through the guest agent, or crash-consistent and why. */
  get consistency(): SnapshotConsistency | undefined {
    return this.taken;
  }

  /**
   * `domainXml`: the domain's live XML as just read (its disks and guest agent channel), so neither is asked again.
   * `qemuProcesses`: the QEMU processes found by earlier openings (the platform's), checked before /proc is searched.
   */
  static async open(libvirt: Libvirt, domainUuid: string, target: string, size: number, checkpoint: string | undefined, domainXml?: string, qemuProcesses?: QemuProcesses): Promise<KvmLiveSource> {
    return new KvmLiveSource(libvirt, domainUuid, target, size, checkpoint, domainXml, qemuProcesses);
  }

  private begin(incrementalFrom?: string): Promise<PullBackup> {
    this.job ??= this.startJob(incrementalFrom);
    return this.job;
  }

  private prepare(): Promise<{ qemu: QemuIdentity; dir: string }> {
    this.prepared ??= (async () => {
      const qemu = await qemuIdentityOf(this.domainUuid, this.qemuProcesses);
      if (!qemu) throw new OpenemError('UNAVAILABLE', `no QEMU process of domain ${this.domainUuid} runs on this host: a live backup needs the VM on the host openem runs on`);
      return { qemu, dir: await makeBackupDir(qemu) };
    })();
    return this.prepared;
  }

  private async startJob(incrementalFrom: string | undefined): Promise<PullBackup> {
    const { qemu, dir } = await this.prepare();
    const socket = join(dir, BACKUP_SOCKET);
    let disks: string[];
    try {
      disks = blockTargets(this.domainXml ?? (await this.libvirt.domainXml(this.domainUuid)));
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    const backupXml =
      `<domainbackup mode='pull'>${incrementalFrom ? `<incremental>${incrementalFrom}</incremental>` : ''}` +
      `<server transport='unix' socket='${socket}'/><disks>` +
      disks.map((t) => (t === this.target ? `<disk name='${t}' backup='yes' type='file'><scratch file='${join(dir, BACKUP_SCRATCH)}'/></disk>` : `<disk name='${t}' backup='no'/>`)).join('') +
      `</disks></domainbackup>`;
    const checkpointXml =
      this.changeTracking.checkpoint === undefined
        ? undefined
        : `<domaincheckpoint><name>${this.changeTracking.checkpoint}</name><disks>` +
      disks.map((t) => `<disk name='${t}' checkpoint='${t === this.target ? 'bitmap' : 'no'}'/>`).join('') +
      `</disks></domaincheckpoint>`;
    try {
      const freeze = await freezeGuest(this.libvirt, this.domainUuid, this.domainXml);
      try {
        await this.libvirt.backupBegin(this.domainUuid, backupXml, checkpointXml);
      } finally {
        await freeze.thaw();
      }
      this.taken = freeze.consistency;
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      if (e instanceof Error && /already (in progress|active)|another job|job .* running/i.test(e.message)) {
        throw conflict(`a backup job already runs on the VM's domain: ${e.message}`);
      }
      throw e;
    }
    try {
      const contexts = ['base:allocation', ...(incrementalFrom ? [dirtyContext(this.target)] : [])];
      const client = await NbdClient.connect(socket, this.target, { metaContexts: contexts });
      // The folder admits only QEMU's user or group: the socket must be QEMU's (or root's), or the export is not the VM's disk.
      const st = await lstat(socket).catch(() => undefined);
      if (!st?.isSocket() || (st.uid !== qemu.uid && st.uid !== 0)) {
        await client.close().catch(() => undefined);
        throw new OpenemError('UNAVAILABLE', `the backup socket ${socket} is not QEMU's (owner ${st?.uid ?? 'none'}, QEMU runs as ${qemu.uid}): refusing to read it`);
      }
      return { socket, dir, client, ...(incrementalFrom ? { incrementalFrom } : {}) };
    } catch (e) {
      await this.endJob(dir);
      throw e;
    }
  }

  private async endJob(dir: string): Promise<void> {
    await this.libvirt.abortJob(this.domainUuid).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }

  /**
   * A chain break when libvirt no longer has checkpoint `since` for this domain. The job counting from `since`
   * begins at once: libvirt refuses it when it has no such checkpoint, and only then are the checkpoints listed
   * before the reads (to tell a chain break from another failure) and a full job begun. Otherwise they are listed,
   * and openem's older ones pruned, while the changes are read (libvirt deletes checkpoints during a backup job);
   * closing waits for that.
   */
  private async changedSince(since: string): Promise<Extent[] | ChainBreak> {
    let job: PullBackup;
    try {
      job = await this.begin(since);
    } catch (e) {
      const listed = await this.libvirt.checkpointNames(this.domainUuid).catch(() => undefined);
      if (!listed || listed.includes(since)) throw e;
      this.checkpointsAtStart = listed;
      // The refused job removed its folder: the full one makes a fresh one (unless the source was closed meanwhile).
      if (this.closed) throw e;
      this.job = undefined;
      this.prepared = undefined;
      await this.begin();
      return { broken: `libvirt has no checkpoint ${since} of the VM any more (deleted, or the VM was redefined)` };
    }
    if (job.incrementalFrom !== since) return { broken: `this reading of the disk began before it was asked for the changes since ${since}` };
    this.countedFrom = since;
    // Only a backup's opening (one that makes a checkpoint) prunes; a plain read drops nothing.
    const made = this.changeTracking.checkpoint;
    if (made) {
      this.pruning ??= this.libvirt
        .checkpointNames(this.domainUuid)
        .then((listed) => pruneLibvirtCheckpoints(this.libvirt, this.domainUuid, this.target, [made, since], listed))
        .then(
          () => undefined,
          () => undefined,
        );
    }
    return mapExtents(job.client, dirtyContext(this.target), (type) => (type & 1) !== 0);
  }

  allocatedExtents(): Promise<Extent[]> {
    this.extents ??= this.begin().then((job) => mapExtents(job.client, 'base:allocation', (type) => (type & 2) === 0));
    return this.extents;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const n = Math.max(0, Math.min(length, this.size - offset));
    if (n === 0) return Buffer.alloc(0);
    return (await this.begin()).client.read(offset, n);
  }

  /** Straight into `target` over NBD; past the end of the disk, zeros. */
  async readInto(offset: number, target: Uint8Array): Promise<void> {
    const n = Math.max(0, Math.min(target.length, this.size - offset));
    const into = Buffer.from(target.buffer, target.byteOffset, target.length);
    if (n > 0) await (await this.begin()).client.readInto(offset, into.subarray(0, n));
    into.fill(0, n);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (!this.job) {
      // Never begun: a folder prepared for it goes.
      const prepared = this.prepared && (await this.prepared.catch(() => undefined));
      this.prepared = undefined;
      if (prepared) await rm(prepared.dir, { recursive: true, force: true });
      return;
    }
    const job = await this.job.catch(() => undefined);
    this.job = undefined;
    if (!job) return;
    await job.client.close();
    await this.endJob(job.dir);
    const made = this.changeTracking.checkpoint;
    if (this.pruning) await this.pruning;
    else if (made) await pruneLibvirtCheckpoints(this.libvirt, this.domainUuid, this.target, [made, this.countedFrom], this.checkpointsAtStart && [...this.checkpointsAtStart, made]);
  }
}
