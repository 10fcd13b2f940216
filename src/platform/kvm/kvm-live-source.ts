import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conflict } from '../../errors.js';
import type { BlockSource, ChangeTracking, Extent } from '../../disks/block-source.js';
import { NbdClient } from './nbd-client.js';
import { mapExtents } from './nbd-export.js';
import type { Virsh } from './virsh.js';

/** The backup job of a running domain, as long as this source reads it. */
interface PullBackup {
  socket: string;
  dir: string;
  client: NbdClient;
  /** The checkpoint the job's dirty-bitmap context counts from, when it is an incremental job. */
  incrementalFrom?: string;
}

/**
 * A running KVM VM's disk, read live through a libvirt pull-mode backup (`virsh backup-begin`): QEMU exports a
 * point-in-time view of the disk over NBD on a private socket, while a new checkpoint (a persistent dirty
 * bitmap, `checkpoint`) starts recording the guest's later writes. The job starts on first use: asked first
 * for the changes since an earlier checkpoint libvirt still has, it is an incremental job whose
 * `qemu:dirty-bitmap:backup-<disk>` context says which extents are dirty. Crash-consistent: the guest is not
 * frozen (no guest agent is asked).
 */
export class KvmLiveSource implements BlockSource {
  readonly changeTracking: ChangeTracking;
  private job: Promise<PullBackup> | undefined;
  private extents: Promise<Extent[]> | undefined;

  private constructor(
    private readonly virsh: Virsh,
    private readonly domainUuid: string,
    private readonly target: string,
    readonly size: number,
    checkpoint: string,
  ) {
    this.changeTracking = { checkpoint, changedBlocksSince: (since) => this.changedSince(since) };
  }

  static async open(virsh: Virsh, domainUuid: string, target: string, size: number, checkpoint: string): Promise<KvmLiveSource> {
    return new KvmLiveSource(virsh, domainUuid, target, size, checkpoint);
  }

  private begin(incrementalFrom?: string): Promise<PullBackup> {
    this.job ??= this.startJob(incrementalFrom);
    return this.job;
  }

  private async startJob(incrementalFrom: string | undefined): Promise<PullBackup> {
    const dir = await mkdtemp(join(tmpdir(), 'openem-kvm-backup-'));
    // QEMU (running as libvirt's user) creates the socket here; others may not list the folder.
    await chmod(dir, 0o733);
    const socket = join(dir, 'nbd.sock');
    const disks = (await this.virsh.lines(['domblklist', this.domainUuid])).map((l) => l.split(/\s+/)[0]);
    const backupXml =
      `<domainbackup mode='pull'>${incrementalFrom ? `<incremental>${incrementalFrom}</incremental>` : ''}` +
      `<server transport='unix' socket='${socket}'/><disks>` +
      disks.map((t) => (t === this.target ? `<disk name='${t}' backup='yes' type='file'><scratch file='${join(dir, 'scratch.qcow2')}'/></disk>` : `<disk name='${t}' backup='no'/>`)).join('') +
      `</disks></domainbackup>`;
    const checkpointXml =
      `<domaincheckpoint><name>${this.changeTracking.checkpoint}</name><disks>` +
      disks.map((t) => `<disk name='${t}' checkpoint='${t === this.target ? 'bitmap' : 'no'}'/>`).join('') +
      `</disks></domaincheckpoint>`;
    try {
      await this.withTwoFiles(backupXml, checkpointXml);
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      if (e instanceof Error && /already (in progress|active)|another job|job .* running/i.test(e.message)) {
        throw conflict(`a backup job already runs on the VM's domain: ${e.message}`);
      }
      throw e;
    }
    try {
      return { socket, dir, client: await NbdClient.connect(socket, this.target), ...(incrementalFrom ? { incrementalFrom } : {}) };
    } catch (e) {
      await this.endJob(dir);
      throw e;
    }
  }

  private async withTwoFiles(backupXml: string, checkpointXml: string): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'openem-virsh-'));
    try {
      await writeFile(join(dir, 'backup.xml'), backupXml, { mode: 0o600 });
      await writeFile(join(dir, 'checkpoint.xml'), checkpointXml, { mode: 0o600 });
      await this.virsh.run(['backup-begin', this.domainUuid, join(dir, 'backup.xml'), join(dir, 'checkpoint.xml')]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async endJob(dir: string): Promise<void> {
    await this.virsh.run(['domjobabort', this.domainUuid]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }

  /** Undefined when libvirt no longer has checkpoint `since` for this domain (the chain is broken). */
  private async changedSince(since: string): Promise<Extent[] | undefined> {
    const known = new Set(await this.virsh.lines(['checkpoint-list', this.domainUuid, '--name']));
    if (!known.has(since)) {
      await this.begin();
      return undefined;
    }
    const job = await this.begin(since);
    if (job.incrementalFrom !== since) return undefined;
    return mapExtents(job.socket, this.target, `qemu:dirty-bitmap:backup-${this.target}`, (type) => (type & 1) !== 0);
  }

  allocatedExtents(): Promise<Extent[]> {
    this.extents ??= this.begin().then((job) => mapExtents(job.socket, this.target, 'base:allocation', (type) => (type & 2) === 0));
    return this.extents;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const n = Math.max(0, Math.min(length, this.size - offset));
    if (n === 0) return Buffer.alloc(0);
    return (await this.begin()).client.read(offset, n);
  }

  async readInto(offset: number, target: Uint8Array): Promise<void> {
    const data = await this.read(offset, target.length);
    target.set(data);
    target.fill(0, data.length);
  }

  async close(): Promise<void> {
    if (!this.job) return;
    const job = await this.job.catch(() => undefined);
    this.job = undefined;
    if (!job) return;
    await job.client.close();
    await this.endJob(job.dir);
  }
}
