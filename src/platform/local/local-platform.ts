import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { badRequest, conflict, notFound } from '../../errors.js';
import type { BlockSource } from '../../disks/block-source.js';
import { LocalImageSource } from './local-image-source.js';
import type {
  DatastoreInfo,
  DiskWriter,
  ExposedDisk,
  HierarchyRootInfo,
  Platform,
  PowerState,
  RestoreIncompleteMark,
  VmConfig,
} from '../platform.js';
import { assertPowerOnAllowed } from '../restore-incomplete-mark.js';
import { syncDirectory } from '../../host/sync-directory.js';
import { findTool } from './external-tool.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../host/private-data-dir.js';
import { ImageFileWriter } from './image-file-writer.js';
import { LocalDiskReplacement } from './local-disk-replacement.js';
import { LocalStagedVm } from './local-staged-vm.js';
import { datastoreDir, defaultDatastoreFor, loadPlatformFile, type PlatformFile } from './platform-file.js';
import { removeStaleStagingFiles, removeStaleStagingFolders, stagingFolderName } from './staging-folders.js';
import { imageFileFor, scanVms, vmJsonFor, writeVmJson, type LocatedVm } from './vm-folders.js';
import { assertValidDiskFileName, assertValidDiskName, assertValidVmName } from './vm-name.js';

export interface LocalPlatformOptions {
  /** The platform's id in the configuration; `local` by default. */
  id?: string;
  /** Source of new GUIDs (VM ids, hierarchy roots, datastores, staging folders); tests may fix it. */
  newId?: () => string;
  now?: () => Date;
}

/**
 * VMs kept on this machine's disk: `<dataDir>/datastores/<datastore>/<vm>/vm.json` plus raw sparse images.
 * Every call re-reads from disk, because the `openem vm` CLI may change the data directory while the
 * server runs. Read-modify-write of one vm.json is serialised within this process (`changeVmJson`); across
 * processes, the VM claim (tasks/vm-claims.ts) that the restore and the CLI's power and abandon commands hold
 * keeps two writers apart.
 */
export class LocalPlatform implements Platform {
  readonly kind = 'local' as const;

  private constructor(
    readonly id: string,
    readonly dataDir: string,
    private readonly newId: () => string,
    private readonly now: () => Date,
    private readonly fallocatePath: string | undefined,
  ) {}

  /** Opens (creating on first use) the local platform in `dataDir` and clears leftovers of crashed staging. */
  static async open(dataDir: string, options: LocalPlatformOptions = {}): Promise<LocalPlatform> {
    const newId = options.newId ?? randomUUID;
    const file = await loadPlatformFile(dataDir, newId);
    for (const ds of file.datastores) await mkdir(datastoreDir(dataDir, ds), { recursive: true, mode: PRIVATE_DIR_MODE });
    await removeStaleStagingFolders(dataDir, file);
    await removeStaleStagingFiles((await scanVms(dataDir, file)).map((v) => v.dir));
    return new LocalPlatform(options.id ?? 'local', dataDir, newId, options.now ?? (() => new Date()), await findTool('fallocate'));
  }

  /** The tail of the chain of vm.json changes made through this platform. */
  private vmJsonChanges: Promise<unknown> = Promise.resolve();

  /**
   * Runs `change` (which reads vm.json and writes it back) after every vm.json change asked for earlier in this
   * process has finished, in the order they were asked for, so that no two interleave and lose one's update (a
   * power-on over a fresh mark). One chain for all VMs: it is joined synchronously, before any await, so a change
   * asked for later can never overtake an earlier one; vm.json changes are few and small.
   */
  private changeVmJson<T>(vmIdOrName: string, change: (vm: LocatedVm) => Promise<T>): Promise<T> {
    const next = this.vmJsonChanges.catch(() => undefined).then(() => this.locate(vmIdOrName).then(change));
    this.vmJsonChanges = next.catch(() => undefined);
    return next;
  }

  private loadFile(): Promise<PlatformFile> {
    return loadPlatformFile(this.dataDir, this.newId);
  }

  async hierarchyRoots(): Promise<HierarchyRootInfo[]> {
    return (await this.loadFile()).hierarchyRoots;
  }

  async datastores(): Promise<DatastoreInfo[]> {
    return (await this.loadFile()).datastores;
  }

  async listVms(): Promise<VmConfig[]> {
    return (await scanVms(this.dataDir, await this.loadFile())).map((v) => v.config);
  }

  async findVm(idOrName: string): Promise<VmConfig | undefined> {
    return (await this.locateOrUndefined(idOrName))?.config;
  }

  private async locateOrUndefined(idOrName: string): Promise<LocatedVm | undefined> {
    const vms = await scanVms(this.dataDir, await this.loadFile());
    const byId = idOrName.toLowerCase();
    return vms.find((v) => v.config.id.toLowerCase() === byId) ?? vms.find((v) => v.config.name === idOrName);
  }

  /** The VM and its folder, by id or name; `notFound` if there is none. */
  async locate(idOrName: string): Promise<LocatedVm> {
    const vm = await this.locateOrUndefined(idOrName);
    if (!vm) throw notFound(`no VM with id or name '${idOrName}'`);
    return vm;
  }

  private diskPath(vm: LocatedVm, diskName: string): string {
    const disk = vm.json.disks.find((d) => d.name === diskName);
    if (!disk) throw notFound(`VM '${vm.config.name}' has no disk '${diskName}'`);
    assertValidDiskFileName(disk.file);
    return join(vm.dir, disk.file);
  }

  async openDisk(vmId: string, diskName: string): Promise<BlockSource> {
    return LocalImageSource.open(this.diskPath(await this.locate(vmId), diskName));
  }

  async openDiskForWrite(vmId: string, diskName: string): Promise<DiskWriter> {
    return ImageFileWriter.open(this.diskPath(await this.locate(vmId), diskName), this.fallocatePath);
  }

  /** New images beside the disks' own files (local-disk-replacement.ts), renamed over them on commit. */
  async replaceDisks(vmId: string, disks: { name: string }[], bytes: number): Promise<LocalDiskReplacement[] | { noRoom: string }> {
    const vm = await this.locate(vmId);
    const images = disks.map((d) => ({ path: this.diskPath(vm, d.name), size: vm.config.disks.find((x) => x.name === d.name)!.size }));
    return LocalDiskReplacement.createAll(images, bytes);
  }

  /** Where a VM's disk image is (what `openem vm show` prints; tests and benches read it directly). */
  async diskImagePath(vmIdOrName: string, diskName: string): Promise<string> {
    return this.diskPath(await this.locate(vmIdOrName), diskName);
  }

  /** The disk's image file itself: fuse2fs opens it; nothing to stop afterwards. */
  async exposeDisk(vmId: string, diskName: string): Promise<ExposedDisk> {
    return { endpoint: { kind: 'raw-file', path: this.diskPath(await this.locate(vmId), diskName) }, close: async () => undefined };
  }

  /** Throws `conflict` if a VM other than `exceptId` is named `name` on any datastore. */
  async assertNameFree(name: string, exceptId?: string): Promise<void> {
    const vms = await scanVms(this.dataDir, await this.loadFile());
    if (vms.some((v) => v.config.name === name && v.config.id !== exceptId)) {
      throw conflict(`a VM named '${name}' already exists`);
    }
  }

  async setPowerState(vmId: string, state: PowerState, options: { force?: boolean } = {}): Promise<void> {
    if (state !== 'PoweredOn' && state !== 'PoweredOff') throw badRequest(`unknown power state '${state}'`);
    await this.changeVmJson(vmId, async (vm) => {
      if (state === 'PoweredOn') assertPowerOnAllowed(vm.config, options.force === true);
      await writeVmJson(vm.dir, { ...vm.json, powerState: state });
    });
  }

  async markRestoreIncomplete(vmId: string, mark: RestoreIncompleteMark): Promise<void> {
    await this.changeVmJson(vmId, (vm) => writeVmJson(vm.dir, { ...vm.json, restoreIncomplete: mark }));
  }

  async clearRestoreIncomplete(vmId: string, sessionId: string): Promise<void> {
    await this.changeVmJson(vmId, async (vm) => {
      if (vm.json.restoreIncomplete?.sessionId !== sessionId) return;
      const { restoreIncomplete: _cleared, ...rest } = vm.json;
      await writeVmJson(vm.dir, rest);
    });
  }

  /**
   * Replaces the config; the VM stays where its files are (id, datastore and hierarchy root are kept, and each
   * disk keeps its image file).
   * A new name renames the VM's folder: the config is written first, so a crash in between leaves a
   * VM whose folder name lags behind its (authoritative) config name.
   */
  async updateVmConfig(vm: VmConfig): Promise<void> {
    await this.changeVmJson(vm.id, (current) => this.replaceVmConfig(current, vm));
  }

  private async replaceVmConfig(current: LocatedVm, vm: VmConfig): Promise<void> {
    assertValidVmName(vm.name);
    vm.disks.forEach((d) => assertValidDiskName(d.name));
    if (vm.name !== current.config.name) await this.assertNameFree(vm.name, vm.id);
    const { restoreIncomplete: _fromCaller, ...fromCaller } = vm;
    const next: VmConfig = {
      ...fromCaller,
      id: current.config.id,
      datastoreId: current.config.datastoreId,
      hierarchyRootId: current.config.hierarchyRootId,
      // The mark is the restore's to set and clear; a config brought back from a restore point never carries one.
      ...(current.config.restoreIncomplete ? { restoreIncomplete: current.config.restoreIncomplete } : {}),
    };
    await writeVmJson(current.dir, vmJsonFor(next, current.json));
    if (vm.name !== current.config.name) await this.moveFolderToName(current.dir, vm.name);
  }

  private async moveFolderToName(dir: string, name: string): Promise<void> {
    const parent = join(dir, '..');
    const target = join(parent, name);
    try {
      await mkdir(target, PRIVATE_DIR_MODE);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw conflict(`a folder named '${name}' already exists`);
      throw e;
    }
    try {
      await rename(dir, target);
    } catch (e) {
      await rmdir(target).catch(() => undefined);
      throw e;
    }
    await syncDirectory(parent);
  }

  async stageNewVm(template: Omit<VmConfig, 'id' | 'createdAt'>): Promise<LocalStagedVm> {
    assertValidVmName(template.name);
    for (const d of template.disks) {
      assertValidDiskName(d.name);
      assertValidDiskFileName(imageFileFor(d.name));
      if (!Number.isSafeInteger(d.size) || d.size <= 0) throw badRequest(`disk '${d.name}' has invalid size ${d.size}`);
    }
    if (new Set(template.disks.map((d) => d.name)).size !== template.disks.length) {
      throw badRequest('two disks share one name');
    }
    await this.assertNameFree(template.name);
    const file = await this.loadFile();
    const ds = this.resolveDatastore(file, template);
    const config: VmConfig = {
      ...template,
      disks: template.disks.map(({ name, size }) => ({ name, size })),
      id: this.newId(),
      datastoreId: ds.id,
      hierarchyRootId: ds.hierarchyRootId,
      createdAt: this.now().toISOString(),
    };
    const dsDir = datastoreDir(this.dataDir, ds);
    const stagingDir = join(dsDir, stagingFolderName(process.pid, this.newId()));
    await mkdir(stagingDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    try {
      const json = vmJsonFor(config);
      for (const disk of json.disks) await createSparseFile(join(stagingDir, disk.file), disk.size);
      await writeVmJson(stagingDir, json);
    } catch (e) {
      await rm(stagingDir, { recursive: true, force: true });
      throw e;
    }
    return new LocalStagedVm(config, stagingDir, dsDir, {
      imageFileFor,
      assertNameFree: (name) => this.assertNameFree(name),
      fallocatePath: this.fallocatePath,
    });
  }

  /** The template's datastore if it names one of ours, else the default datastore for its platform. */
  private resolveDatastore(file: PlatformFile, template: Omit<VmConfig, 'id' | 'createdAt'>): DatastoreInfo {
    if (template.datastoreId) {
      const ds = file.datastores.find((d) => d.id === template.datastoreId);
      if (ds) return ds;
    }
    return defaultDatastoreFor(file, template.platform);
  }

  /**
   * Deletes a VM and its disks. The folder is first renamed to a staging name, so a crash half-way
   * leaves no half-deleted VM in the inventory, only a folder the next open removes.
   */
  async removeVm(idOrName: string): Promise<VmConfig> {
    const vm = await this.locate(idOrName);
    const trash = join(vm.dir, '..', stagingFolderName(process.pid, this.newId()));
    await rename(vm.dir, trash);
    await syncDirectory(join(vm.dir, '..'));
    await rm(trash, { recursive: true, force: true });
    return vm.config;
  }
}

/** A file of `size` bytes that takes no space until written. */
async function createSparseFile(path: string, size: number): Promise<void> {
  const fh = await open(path, 'wx', PRIVATE_FILE_MODE);
  try {
    await fh.truncate(size);
  } finally {
    await fh.close();
  }
}
