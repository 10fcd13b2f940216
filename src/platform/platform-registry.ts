import type { ExposedDisk } from '../disks/disk-endpoint.js';
import type { BlockSource } from '../disks/block-source.js';
import { conflict, notFound, OpenemError } from '../errors.js';
import type {
  OpenDiskOptions,
  DatastoreInfo,
  DiskReplacement,
  DiskWriter,
  HierarchyRootInfo,
  Platform,
  PlatformOperations,
  PowerState,
  RestoreIncompleteMark,
  StagedVm,
  VmConfig,
} from './platform.js';

/**
 * Every platform of the configuration at once. The inventory is the union of theirs; a VM is addressed by id or
 * name and each call goes to the platform the VM lives on (ids are GUIDs, unique across platforms; a name two
 * platforms both have is refused as ambiguous rather than guessed). New VMs go to the platform of the datastore
 * or hierarchy root they name, else to the first platform configured.
 */
export class PlatformRegistry implements PlatformOperations {
  private readonly byId: ReadonlyMap<string, Platform>;

  constructor(readonly platforms: readonly Platform[]) {
    if (platforms.length === 0) throw new OpenemError('BAD_CONFIG', 'a platform registry needs at least one platform');
    const byId = new Map<string, Platform>();
    for (const p of platforms) {
      if (byId.has(p.id)) throw new OpenemError('BAD_CONFIG', `two platforms share the id '${p.id}'`);
      byId.set(p.id, p);
    }
    this.byId = byId;
  }

  /** The platform configured with `id`, if any. */
  get(id: string): Platform | undefined {
    return this.byId.get(id);
  }

  async hierarchyRoots(): Promise<HierarchyRootInfo[]> {
    return (await Promise.all(this.platforms.map((p) => p.hierarchyRoots()))).flat();
  }

  async datastores(): Promise<DatastoreInfo[]> {
    return (await Promise.all(this.platforms.map((p) => p.datastores()))).flat();
  }

  async listVms(): Promise<VmConfig[]> {
    return (await Promise.all(this.platforms.map((p) => p.listVms()))).flat();
  }

  async findVm(idOrName: string): Promise<VmConfig | undefined> {
    return (await this.locate(idOrName))?.vm;
  }

  /** The VM and the platform it lives on; undefined if no platform has it. */
  async locate(idOrName: string): Promise<{ platform: Platform; vm: VmConfig } | undefined> {
    const found: { platform: Platform; vm: VmConfig }[] = [];
    for (const platform of this.platforms) {
      const vm = await platform.findVm(idOrName);
      if (vm) found.push({ platform, vm });
    }
    const byId = found.find((f) => f.vm.id.toLowerCase() === idOrName.toLowerCase());
    if (byId || found.length <= 1) return byId ?? found[0];
    throw conflict(`VM name '${idOrName}' is taken on several platforms (${found.map((f) => f.platform.id).join(', ')}); use the VM's id`);
  }

  /** The platform VM `idOrName` lives on; NOT_FOUND if none has it. */
  async platformOf(idOrName: string): Promise<Platform> {
    const located = await this.locate(idOrName);
    if (!located) throw notFound(`no VM with id or name '${idOrName}'`);
    return located.platform;
  }

  /** The platform presenting datastore `id`, if any. */
  async platformOfDatastore(id: string): Promise<Platform | undefined> {
    for (const p of this.platforms) if ((await p.datastores()).some((d) => d.id.toLowerCase() === id.toLowerCase())) return p;
    return undefined;
  }

  async openDisk(vmId: string, diskName: string, options?: OpenDiskOptions): Promise<BlockSource> {
    return (await this.platformOf(vmId)).openDisk(vmId, diskName, options);
  }

  async openDiskForWrite(vmId: string, diskName: string): Promise<DiskWriter> {
    return (await this.platformOf(vmId)).openDiskForWrite(vmId, diskName);
  }

  /** Undefined where the VM's platform cannot replace disks: the caller writes them in place. */
  async replaceDisks(vmId: string, disks: { name: string }[], bytes: number): Promise<DiskReplacement[] | { noRoom: string } | undefined> {
    const platform = await this.platformOf(vmId);
    return platform.replaceDisks ? platform.replaceDisks(vmId, disks, bytes) : undefined;
  }

  async exposeDisk(vmId: string, diskName: string): Promise<ExposedDisk> {
    return (await this.platformOf(vmId)).exposeDisk(vmId, diskName);
  }

  async updateVmConfig(vm: VmConfig): Promise<void> {
    return (await this.platformOf(vm.id)).updateVmConfig(vm);
  }

  async setPowerState(vmId: string, state: PowerState, options?: { force?: boolean }): Promise<void> {
    return (await this.platformOf(vmId)).setPowerState(vmId, state, options);
  }

  async markRestoreIncomplete(vmId: string, mark: RestoreIncompleteMark): Promise<void> {
    return (await this.platformOf(vmId)).markRestoreIncomplete(vmId, mark);
  }

  async clearRestoreIncomplete(vmId: string, sessionId: string): Promise<void> {
    return (await this.platformOf(vmId)).clearRestoreIncomplete(vmId, sessionId);
  }

  async stageNewVm(template: Omit<VmConfig, 'id' | 'createdAt'>): Promise<StagedVm> {
    return (await this.platformForNewVm(template)).stageNewVm(template);
  }

  private async platformForNewVm(template: Omit<VmConfig, 'id' | 'createdAt'>): Promise<Platform> {
    if (template.datastoreId) {
      const p = await this.platformOfDatastore(template.datastoreId);
      if (p) return p;
    }
    if (template.hierarchyRootId) {
      for (const p of this.platforms) if ((await p.hierarchyRoots()).some((r) => r.id.toLowerCase() === template.hierarchyRootId.toLowerCase())) return p;
    }
    return this.platforms[0];
  }
}
