import type { BlockSource } from '../disks/block-source.js';
import type { ExposedDisk } from '../disks/disk-endpoint.js';
import type { PowerState, PresentedPlatform, RestoreIncompleteMark, VmConfig } from '../vm-config.js';

// The VM description lives below every layer: platforms produce it and restore points record it.
export type { GuestOsKind, KernelBoot, PowerState, PresentedPlatform, RestoreIncompleteMark, VmConfig, VmDiskConfig } from '../vm-config.js';

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

/**
 * A disk's complete new image, written beside the disk (`writer` starts as one hole: zero blocks stay unwritten)
 * and put in the disk's place by `commit`, atomically: until then the disk itself is not touched.
 */
export interface DiskReplacement {
  readonly writer: DiskWriter;
  /** Makes the new image durable and puts it in place of the disk. */
  commit(): Promise<void>;
  /** After `commit`: frees what the replaced image held (slow for big disks, so not part of the commit). */
  oldImageRemoved(): Promise<void>;
  /** Removes the new image; the disk stays as it was. Safe after a failure, after commit, or twice. */
  abort(): Promise<void>;
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

export type { DiskEndpoint, ExposedDisk } from '../disks/disk-endpoint.js';

/** The platforms openem can drive; each is a folder under platform/ (KVM adds `kvm`). */
export type PlatformKind = 'local' | 'kvm';

/**
 * Everything openem needs from a hypervisor. The built-in `local` platform keeps VMs on this machine's disk;
 * others plug in behind the same interface. Optional capabilities a hypervisor brings (where the data is,
 * changed-block tracking) are declared on the disks it opens (`BlockSource`).
 */
export interface OpenDiskOptions {
  changeTracking?: boolean;
}

export interface Platform {
  readonly kind: PlatformKind;
  /** This platform's id in the configuration (`platforms[].id`): several may run at once. */
  readonly id: string;
  hierarchyRoots(): Promise<HierarchyRootInfo[]>;
  datastores(): Promise<DatastoreInfo[]>;
  listVms(): Promise<VmConfig[]>;
  /** By id or by name. */
  findVm(idOrName: string): Promise<VmConfig | undefined>;
  /**
   * `changeTracking`: the opener (a backup) wants the disk's changes from here on recorded, so the next opening can
   * read only them; others (restores, file listings, scans) leave no trace on the disk.
   */
  openDisk(vmId: string, diskName: string, options?: OpenDiskOptions): Promise<BlockSource>;
  openDiskForWrite(vmId: string, diskName: string): Promise<DiskWriter>;
  /**
   * New images for the named disks of a VM, written beside them and each renamed over its disk on commit (a full
   * restore in one pass: every block written once, verified as it is fetched, while the disks stay as they were).
   * `bytes`: the data all of them will receive; `noRoom` says why there is not room for it beside the disks.
   * Absent, or undefined, where the platform cannot (kvm: its disks are written in place, `openDiskForWrite`).
   */
  replaceDisks?(vmId: string, disks: { name: string }[], bytes: number): Promise<DiskReplacement[] | { noRoom: string } | undefined>;
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
  /** The disk as a tool that edits guest filesystems in place reaches it (fuse2fs), until the answer is closed. */
  exposeDisk(vmId: string, diskName: string): Promise<ExposedDisk>;
}

/** What is asked of the VM's platform, whichever it is: `PlatformRegistry` routes each call. */
export type PlatformOperations = Omit<Platform, 'kind' | 'id'>;
