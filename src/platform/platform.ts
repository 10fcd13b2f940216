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
  /** Set while an in-place restore has begun writing the VM's disks and has not completed (issue #9 §6). */
  restoreIncomplete?: RestoreIncompleteMark;
}

/**
 * "Restore incomplete": written into the VM's config, atomically, before an in-place restore's first write
 * and cleared when it succeeds. While it is set the disks match neither the VM before nor the restore point,
 * so the VM is not powered on. It names what a server needs to resume the restore after a crash.
 */
export interface RestoreIncompleteMark {
  /** `writing`: the restore runs or was interrupted, and resumes when the server starts; `failed`: it stopped
   * on an error after writing began; `abandoned`: an operator gave up on it. */
  state: 'writing' | 'failed' | 'abandoned';
  /** The restore session that writes (or wrote) the disks. */
  sessionId: string;
  vmRestorePointId: string;
  /** The restore point's time, for messages. */
  restorePointTime: string;
  /** What was asked for, so a resumed restore does the same. */
  request: { quickRollback: boolean; powerOnAfterRestore: boolean };
  /** ISO time the mark was set. */
  since: string;
  /** Why the state is `failed` or `abandoned`, in words. */
  reason?: string;
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
  /** Replaces the VM's config (not its id, location or restore mark); used when a restore brings the config back. */
  updateVmConfig(vm: VmConfig): Promise<void>;
  /**
   * Powering on refuses (CONFLICT, naming the restore session) while the VM is marked restore incomplete;
   * `force` powers on a VM whose restore an operator abandoned, and nothing else.
   */
  setPowerState(vmId: string, state: PowerState, options?: { force?: boolean }): Promise<void>;
  /** Writes the mark into the VM's config (atomically), replacing any earlier mark. */
  markRestoreIncomplete(vmId: string, mark: RestoreIncompleteMark): Promise<void>;
  /** Removes the mark if it is the one of `sessionId` (a later restore's mark stays). */
  clearRestoreIncomplete(vmId: string, sessionId: string): Promise<void>;
  /** Starts a new VM (new id) that stays invisible until committed. */
  stageNewVm(template: Omit<VmConfig, 'id' | 'createdAt'>): Promise<StagedVm>;
  /** The image file behind a disk, for tools that edit guest filesystems in place. */
  diskImageLocation(vmId: string, diskName: string): Promise<DiskImageLocation>;
}
