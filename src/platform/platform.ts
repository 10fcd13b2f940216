import type { BlockSource } from '../disks/block-source.js';

/** The platform a VM presents as; it decides which Enterprise Manager request rules apply (seed 001). */
export type PresentedPlatform = 'vsphere' | 'hyperv' | 'vcloud';
export type PowerState = 'PoweredOn' | 'PoweredOff';
export type GuestOsKind = 'linux' | 'windows' | 'other';

export interface VmDiskConfig {
  /** Stable disk name within the VM, e.g. `disk0`. */
  name: string;
  /** Image file name, relative to the VM's folder. */
  file: string;
  /** Virtual size in bytes. */
  size: number;
}

/** What a VM's config file (`vm.json`) holds. */
export interface VmConfig {
  id: string;
  name: string;
  cpus: number;
  memoryMiB: number;
  powerState: PowerState;
  guestOs: GuestOsKind;
  platform: PresentedPlatform;
  /** Hierarchy root (host) the VM lives on. */
  hierarchyRootId: string;
  /** Datastore id the VM's files are on. */
  datastoreId: string;
  disks: VmDiskConfig[];
  createdAt: string;
}

export interface HierarchyRootInfo {
  id: string;
  name: string;
  /** Enterprise Manager's HostType: VC, HyperV or VcdSystem. */
  hostType: 'VC' | 'HyperV' | 'VcdSystem';
  platform: PresentedPlatform;
}

export interface DatastoreInfo {
  id: string;
  name: string;
  hierarchyRootId: string;
}

/** Positional writes into a disk; holes are made by never writing zero blocks and truncating to size. */
export interface DiskWriter {
  readonly size: number;
  write(offset: number, data: Buffer): Promise<void>;
  /** Turns [offset, offset+length) into a hole (or zeros where the filesystem cannot punch). */
  zero(offset: number, length: number): Promise<void>;
  /** Makes the written data durable. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** A VM being built out of sight (KeepOriginalVM, new name): visible only after `commit`. */
export interface StagedVm {
  readonly config: VmConfig;
  openDiskForWrite(diskName: string): Promise<DiskWriter>;
  /** Makes the VM visible under its name, atomically. */
  commit(): Promise<VmConfig>;
  /** Removes everything staged; safe to call after a failure or twice. */
  abort(): Promise<void>;
}

/** The image file holding a disk, where guest file restores mount the guest filesystem (fuse2fs) to write into it. */
export interface DiskImageLocation {
  path: string;
}

/**
 * Everything openem needs from a hypervisor. The built-in `local` platform keeps VMs on this machine's disk;
 * others plug in behind the same interface.
 */
export interface Platform {
  readonly kind: string;
  hierarchyRoots(): Promise<HierarchyRootInfo[]>;
  datastores(): Promise<DatastoreInfo[]>;
  listVms(): Promise<VmConfig[]>;
  /** By id or by name. */
  findVm(idOrName: string): Promise<VmConfig | undefined>;
  openDisk(vmId: string, diskName: string): Promise<BlockSource>;
  openDiskForWrite(vmId: string, diskName: string): Promise<DiskWriter>;
  /** Replaces the VM's config (not its id); used when a restore brings the config back. */
  updateVmConfig(vm: VmConfig): Promise<void>;
  setPowerState(vmId: string, state: PowerState): Promise<void>;
  /** Starts a new VM (new id) that stays invisible until committed. */
  stageNewVm(template: Omit<VmConfig, 'id' | 'createdAt'>): Promise<StagedVm>;
  /** The image file behind a disk, for tools that edit guest filesystems in place. */
  diskImageLocation(vmId: string, diskName: string): Promise<DiskImageLocation>;
}
