import { randomUUID } from 'node:crypto';
import { access, constants } from 'node:fs/promises';
import { dirname } from 'node:path';
import { badRequest, conflict, isOpenemError, notFound, OpenemError } from '../../errors.js';
import type { BlockSource } from '../../disks/block-source.js';
import type {
  DatastoreInfo,
  DiskWriter,
  ExposedDisk,
  HierarchyRootInfo,
  OpenDiskOptions,
  Platform,
  PowerState,
  PresentedPlatform,
  RestoreIncompleteMark,
  KernelBoot,
  VmConfig,
} from '../platform.js';
import { assertPowerOnAllowed } from '../restore-incomplete-mark.js';
import { isActiveDomainXml, newDomainXml, parseDomainXml, parsePoolXml, serialLogPath, virtioTarget, withOpenemMetadata, type DomainInfo, type OpenemDomainMetadata } from './domain-xml.js';
import { exposeImageAsRawFile } from './fuse-exposed-disk.js';
import { KvmImageSource } from './kvm-disk-source.js';
import { KvmLiveSource } from './kvm-live-source.js';
import type { QemuProcesses } from './backup-folder.js';
import { KvmImageWriter } from './kvm-disk-writer.js';
import { assertValidDiskName, assertValidDomainName } from './kvm-names.js';
import { KvmStagedVm } from './kvm-staged-vm.js';
import { isOpenemCheckpoint, newCheckpointName } from './checkpoint-retention.js';
import { removeStaleStagedVolumes, stagedVolumeName } from './staged-volumes.js';
import { imageSize } from './qcow2-bitmaps.js';
import { Libvirt } from './libvirt.js';
import type { Virsh } from './virsh.js';

export interface KvmPlatformOptions {
  id?: string;
  /** libvirt URI, e.g. `qemu:///system`. */
  uri: string;
  /** How the host and its VMs present to Enterprise Manager clients (seed 001's platform rules); default vSphere. */
  presentAs?: PresentedPlatform;
  /** The storage pool new VMs' volumes go to (name or UUID); default the first active pool. */
  pool?: string;
  /** How long a graceful shutdown may take before the domain is destroyed; default 60 s. */
  shutdownTimeoutMs?: number;
  /**
   * The folder the serial consoles of the domains openem defines are written to (`<uuid>.log`, see
   * `serialLogPath`), readable by libvirt's QEMU; default none: a pty.
   */
  consoleLogDir?: string;
  /**
   * How the domains openem defines run: `kvm` or `tcg` (QEMU's emulator, libvirt domain type `qemu`); default
   * `kvm` when /dev/kvm opens. Say `tcg` where /dev/kvm opens but does not run guests (some nested hypervisors).
   */
  accelerator?: 'kvm' | 'tcg';
  newId?: () => string;
  now?: () => Date;
}


/** A restore point's kernel may be gone from the host since: refused before any volume is made, naming the file. */
async function assertBootFilesReadable(boot: KernelBoot): Promise<void> {
  for (const file of [boot.kernel, boot.initrd]) {
    if (file && !(await access(file, constants.R_OK).then(() => true, () => false))) {
      throw conflict(`the VM boots the host's kernel file ${file}, which is not there (any more); put it back to restore this VM as a new one`);
    }
  }
}

const HOST_TYPE: Record<PresentedPlatform, HierarchyRootInfo['hostType']> = { vsphere: 'VC', hyperv: 'HyperV', vcloud: 'VcdSystem' };

interface LocatedDomain {
  info: DomainInfo;
  running: boolean;
  /** The live `dumpxml` it was read from, when it was (a disk's opening reads only that). */
  liveXml?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * KVM guests managed by libvirt: domains are VMs, storage pools are datastores, the host is the hierarchy root.
 * Everything is asked of libvirt on each call (over its RPC socket, libvirt.ts, or `virsh` with argv arrays for
 * what that does not cover and for remote URIs; domains and pools named by UUID);
 * what libvirt has no field for (presented platform, restore mark) lives in openem's element of the domain's
 * `<metadata>`. Disks of powered-off VMs are read and written through qemu-nbd on their images.
 */
export class KvmPlatform implements Platform {
  readonly kind = 'kvm' as const;
  private metadataChanges: Promise<unknown> = Promise.resolve();
  /** Each running domain's QEMU process as the last live backup found it (backup-folder.ts). */
  private readonly qemuProcesses: QemuProcesses = new Map();

  private constructor(
    readonly id: string,
    readonly libvirt: Libvirt,
    private readonly host: { uuid: string; name: string },
    private readonly presentAs: PresentedPlatform,
    private readonly options: KvmPlatformOptions,
    private readonly domainType: 'kvm' | 'qemu',
  ) {}

  static async open(options: KvmPlatformOptions): Promise<KvmPlatform> {
    const libvirt = await Libvirt.open(options.uri);
    const virsh = libvirt.virsh;
    const caps = await virsh.run(['capabilities']);
    const uuid = /<host>\s*<uuid>([^<]+)<\/uuid>/.exec(caps)?.[1] ?? randomUUID();
    const name = (await virsh.run(['hostname']).catch(() => options.uri)).trim() || options.uri;
    const kvm = options.accelerator ? options.accelerator === 'kvm' : await access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false);
    // What a killed KeepOriginalVM restore left in the pools goes before anything is listed.
    await removeStaleStagedVolumes(virsh);
    return new KvmPlatform(options.id ?? 'kvm', libvirt, { uuid, name }, options.presentAs ?? 'vsphere', options, kvm ? 'kvm' : 'qemu');
  }

  /** virsh against the platform's URI, for the calls libvirt.ts does not make. */
  get virsh(): Virsh {
    return this.libvirt.virsh;
  }

  private get now(): Date {
    return (this.options.now ?? (() => new Date()))();
  }

  async hierarchyRoots(): Promise<HierarchyRootInfo[]> {
    return [{ id: this.host.uuid, name: this.host.name, hostType: HOST_TYPE[this.presentAs], platform: this.presentAs }];
  }

  private async pools(): Promise<{ uuid: string; name: string; path?: string }[]> {
    return (await this.libvirt.activePoolXmls()).map(parsePoolXml);
  }

  async datastores(): Promise<DatastoreInfo[]> {
    return (await this.pools()).map((p) => ({ id: p.uuid, name: p.name, hierarchyRootId: this.host.uuid }));
  }

  private async domains(): Promise<LocatedDomain[]> {
    const domains = await this.libvirt.domains();
    return Promise.all(domains.map(async (d) => ({ info: parseDomainXml(await this.libvirt.domainXml(d.uuid, { inactive: true })), running: d.running })));
  }

  private async configOf(d: LocatedDomain, pools: { uuid: string; path?: string }[]): Promise<VmConfig> {
    const disks = await Promise.all(d.info.disks.map(async (disk) => ({ name: disk.name, size: disk.file ? await imageSize(disk.file, disk.format) : 0 })));
    const firstFile = d.info.disks.find((x) => x.file)?.file;
    const pool = (firstFile && pools.find((p) => p.path && dirname(firstFile) === p.path)) || pools[0];
    const m = d.info.metadata;
    return {
      id: d.info.uuid,
      name: d.info.name,
      cpus: d.info.vcpus,
      memoryMiB: Math.round(d.info.memoryKiB / 1024),
      powerState: d.running ? 'PoweredOn' : 'PoweredOff',
      guestOs: m.guestOs ?? 'other',
      platform: this.presentAs,
      hierarchyRootId: this.host.uuid,
      datastoreId: pool?.uuid ?? '',
      disks,
      createdAt: m.createdAt ?? '',
      ...(m.restoreIncomplete ? { restoreIncomplete: m.restoreIncomplete } : {}),
      ...(d.info.boot ? { boot: d.info.boot } : {}),
    };
  }

  async listVms(): Promise<VmConfig[]> {
    const [domains, pools] = await Promise.all([this.domains(), this.pools()]);
    return Promise.all(domains.map((d) => this.configOf(d, pools)));
  }

  private async locateOrUndefined(idOrName: string): Promise<LocatedDomain | undefined> {
    const domains = await this.domains();
    const id = idOrName.toLowerCase();
    return domains.find((d) => d.info.uuid.toLowerCase() === id) ?? domains.find((d) => d.info.name === idOrName);
  }

  private async locate(idOrName: string): Promise<LocatedDomain> {
    const d = await this.locateOrUndefined(idOrName);
    if (!d) throw notFound(`no VM with id or name '${idOrName}'`);
    return d;
  }

  /**
   * The domain whose disk is opened: by UUID, one live `dumpxml` tells its disks and whether it runs (only an
   * active domain's XML has an id), instead of listing every domain twice and reading each; a name is located
   * through the listing.
   */
  private async locateForDisk(vmId: string): Promise<LocatedDomain> {
    if (!UUID.test(vmId)) return this.locate(vmId);
    let xml: string;
    try {
      xml = await this.libvirt.domainXml(vmId);
    } catch (e) {
      if (isOpenemError(e) && e.code === 'NOT_FOUND') throw notFound(`no VM with id or name '${vmId}'`);
      throw e;
    }
    return { info: parseDomainXml(xml), running: isActiveDomainXml(xml), liveXml: xml };
  }

  async findVm(idOrName: string): Promise<VmConfig | undefined> {
    const [d, pools] = await Promise.all([this.locateOrUndefined(idOrName), this.pools()]);
    return d ? this.configOf(d, pools) : undefined;
  }

  private diskOf(d: LocatedDomain, diskName: string): { file: string; format: string } {
    const disk = d.info.disks.find((x) => x.name === diskName);
    if (!disk) throw notFound(`VM '${d.info.name}' has no disk '${diskName}'`);
    if (!disk.file) throw new OpenemError('UNAVAILABLE', `disk '${diskName}' of VM '${d.info.name}' is not a file-backed volume; openem reads file volumes only`);
    return { file: disk.file, format: disk.format };
  }

  private assertPoweredOff(d: LocatedDomain, what: string): void {
    if (d.running) throw conflict(`VM '${d.info.name}' is running: power it off before ${what}`);
  }

  async openDisk(vmId: string, diskName: string, options: OpenDiskOptions = {}): Promise<BlockSource> {
    const d = await this.locateForDisk(vmId);
    const disk = this.diskOf(d, diskName);
    const checkpoint = newCheckpointName(this.now, randomUUID().replace(/-/g, ''));
    if (d.running) {
      const target = d.info.disks.find((x) => x.name === diskName)!.target;
      return KvmLiveSource.open(this.libvirt, d.info.uuid, target, await imageSize(disk.file, disk.format), options.changeTracking ? checkpoint : undefined, d.liveXml, this.qemuProcesses);
    }
    if (!options.changeTracking) return KvmImageSource.open(disk.file, disk.format, undefined);
    // openem's earlier bitmaps go once this one exists, but not libvirt's checkpoints (a live backup's), which libvirt manages.
    const libvirtCheckpoints = await this.libvirt.checkpointNames(d.info.uuid).catch((): string[] => []);
    return KvmImageSource.open(disk.file, disk.format, checkpoint, { replaces: (name) => isOpenemCheckpoint(name) && !libvirtCheckpoints.includes(name) });
  }

  async openDiskForWrite(vmId: string, diskName: string): Promise<DiskWriter> {
    const d = await this.locateForDisk(vmId);
    const disk = this.diskOf(d, diskName);
    this.assertPoweredOff(d, 'writing its disks');
    return KvmImageWriter.open(disk.file, disk.format);
  }

  async exposeDisk(vmId: string, diskName: string): Promise<ExposedDisk> {
    const d = await this.locateForDisk(vmId);
    const disk = this.diskOf(d, diskName);
    this.assertPoweredOff(d, 'editing its disks');
    return exposeImageAsRawFile(disk.file, disk.format, await imageSize(disk.file, disk.format));
  }

  async setPowerState(vmId: string, state: PowerState, options: { force?: boolean } = {}): Promise<void> {
    if (state !== 'PoweredOn' && state !== 'PoweredOff') throw badRequest(`unknown power state '${state}'`);
    await this.changeMetadata(vmId, async (d) => {
      if (state === 'PoweredOn') {
        assertPowerOnAllowed(await this.configOf(d, await this.pools()), options.force === true);
        if (!d.running) await this.libvirt.start(d.info.uuid);
      } else if (d.running) {
        await this.powerOff(d.info.uuid);
      }
      return undefined;
    });
  }

  /** ACPI shutdown, then destroy when the guest has not stopped within the timeout. */
  private async powerOff(uuid: string): Promise<void> {
    await this.libvirt.shutdown(uuid).catch(() => undefined);
    const deadline = Date.now() + (this.options.shutdownTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (!(await this.libvirt.isActive(uuid))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.libvirt.destroy(uuid).catch(async (e) => {
      if (await this.libvirt.isActive(uuid)) throw e;
    });
  }

  /**
   * Runs `change` (which reads the domain and may return new metadata) after every change asked for earlier in
   * this process, so no two read-modify-writes of the metadata interleave.
   */
  private changeMetadata(vmIdOrName: string, change: (d: LocatedDomain) => Promise<OpenemDomainMetadata | undefined>): Promise<void> {
    const next = this.metadataChanges
      .catch(() => undefined)
      .then(async () => {
        const d = await this.locate(vmIdOrName);
        const metadata = await change(d);
        if (metadata) await this.writeMetadata(d.info.uuid, metadata);
      });
    this.metadataChanges = next.catch(() => undefined);
    return next;
  }

  /**
   * virsh takes `metadata --set` on its command line only, so the metadata goes in as a file instead: the
   * persistent definition (with its secrets, --security-info, which a define without them would drop) gets
   * openem's element in place of its old one and is defined again, as `virsh edit` does. A running domain's live
   * definition keeps its old element until it stops; openem reads the persistent one (dumpxml --inactive).
   */
  private async writeMetadata(uuid: string, metadata: OpenemDomainMetadata): Promise<void> {
    const xml = await this.libvirt.domainXml(uuid, { inactive: true, secure: true });
    await this.libvirt.define(withOpenemMetadata(xml, metadata));
  }

  async markRestoreIncomplete(vmId: string, mark: RestoreIncompleteMark): Promise<void> {
    await this.changeMetadata(vmId, async (d) => ({ ...d.info.metadata, restoreIncomplete: mark }));
  }

  async clearRestoreIncomplete(vmId: string, sessionId: string): Promise<void> {
    await this.changeMetadata(vmId, async (d) => {
      if (d.info.metadata.restoreIncomplete?.sessionId !== sessionId) return undefined;
      const { restoreIncomplete: _cleared, ...rest } = d.info.metadata;
      return rest;
    });
  }

  /** Brings back CPUs, memory, name and guest OS; the domain keeps its disks, pool and restore mark. */
  async updateVmConfig(vm: VmConfig): Promise<void> {
    assertValidDomainName(vm.name);
    await this.changeMetadata(vm.id, async (d) => {
      const uuid = d.info.uuid;
      if (vm.cpus !== d.info.vcpus) {
        await this.virsh.run(['setvcpus', uuid, String(vm.cpus), '--config', '--maximum']);
        await this.virsh.run(['setvcpus', uuid, String(vm.cpus), '--config']);
      }
      const kib = String(vm.memoryMiB * 1024);
      if (vm.memoryMiB * 1024 !== d.info.memoryKiB) {
        await this.virsh.run(['setmaxmem', uuid, kib, '--config']);
        await this.virsh.run(['setmem', uuid, kib, '--config']);
      }
      if (vm.name !== d.info.name) {
        await this.assertNameFree(vm.name, uuid);
        this.assertPoweredOff(d, 'renaming it');
        await this.virsh.run(['domrename', uuid, '--', vm.name]);
      }
      return { ...d.info.metadata, guestOs: vm.guestOs };
    });
  }

  private async assertNameFree(name: string, exceptUuid?: string): Promise<void> {
    if ((await this.domains()).some((d) => d.info.name === name && d.info.uuid !== exceptUuid)) throw conflict(`a VM named '${name}' already exists`);
  }

  private async poolFor(datastoreId: string): Promise<{ uuid: string; name: string; path?: string }> {
    const pools = await this.pools();
    const wanted = pools.find((p) => p.uuid === datastoreId) ?? (this.options.pool ? pools.find((p) => p.name === this.options.pool || p.uuid === this.options.pool) : pools[0]);
    if (!wanted) throw new OpenemError('UNAVAILABLE', `libvirt at ${this.virsh.uri} has no active storage pool for new volumes`);
    return wanted;
  }

  async stageNewVm(template: Omit<VmConfig, 'id' | 'createdAt'>): Promise<KvmStagedVm> {
    assertValidDomainName(template.name);
    for (const d of template.disks) {
      assertValidDiskName(d.name);
      if (!Number.isSafeInteger(d.size) || d.size <= 0) throw badRequest(`disk '${d.name}' has invalid size ${d.size}`);
    }
    if (new Set(template.disks.map((d) => d.name)).size !== template.disks.length) throw badRequest('two disks share one name');
    await this.assertNameFree(template.name);
    const pool = await this.poolFor(template.datastoreId);
    const uuid = (this.options.newId ?? randomUUID)();
    if (template.boot) await assertBootFilesReadable(template.boot);
    const config: VmConfig = {
      ...template,
      disks: template.disks.map(({ name, size }) => ({ name, size })),
      id: uuid,
      platform: this.presentAs,
      powerState: 'PoweredOff',
      datastoreId: pool.uuid,
      hierarchyRootId: this.host.uuid,
      createdAt: this.now.toISOString(),
    };
    const volumeNames = config.disks.map((d) => stagedVolumeName(uuid, d.name));
    const removeVolumes = async () => {
      for (const v of volumeNames) await this.virsh.run(['vol-delete', '--pool', pool.uuid, v]).catch(() => undefined);
    };
    const volumes: { diskName: string; file: string }[] = [];
    try {
      for (const [i, disk] of config.disks.entries()) {
        const xml = `<volume><name>${volumeNames[i]}</name><capacity unit='bytes'>${disk.size}</capacity><target><format type='qcow2'/><compat>1.1</compat></target></volume>`;
        await this.virsh.withXmlFile('vol-create', xml, [pool.uuid]);
        volumes.push({ diskName: disk.name, file: (await this.virsh.run(['vol-path', '--pool', pool.uuid, volumeNames[i]])).trim() });
      }
    } catch (e) {
      await removeVolumes();
      throw e;
    }
    const define = async () => {
      const xml = newDomainXml({
        uuid,
        name: config.name,
        vcpus: config.cpus,
        memoryMiB: config.memoryMiB,
        type: this.domainType,
        disks: volumes.map((v, i) => ({ name: v.diskName, file: v.file, target: virtioTarget(i) })),
        metadata: { platform: config.platform, guestOs: config.guestOs, createdAt: config.createdAt },
        ...(config.boot ? { boot: config.boot } : {}),
        ...(this.options.consoleLogDir ? { serialLog: serialLogPath(this.options.consoleLogDir, uuid) } : {}),
      });
      try {
        await this.libvirt.define(xml);
      } catch (e) {
        if (e instanceof Error && /already exists/i.test(e.message)) throw conflict(`a VM named '${config.name}' already exists`);
        throw e;
      }
    };
    return new KvmStagedVm(config, volumes, { define, assertNameFree: (n) => this.assertNameFree(n), removeVolumes });
  }
}
