/**
 * What a VM is, as a platform describes it and a restore point records it (repository manifests keep a copy of
 * the VM's config at backup time). Plain data, below platform/ and repository/ alike, so neither imports the other.
 */

/** The platform a VM presents as; it decides which Enterprise Manager request rules apply (seed 001). */
export type PresentedPlatform = 'vsphere' | 'hyperv' | 'vcloud';
export type PowerState = 'PoweredOn' | 'PoweredOff';
export type GuestOsKind = 'linux' | 'windows' | 'other';

/**
 * A disk as every platform names it: the VM and this name identify it; where its bytes live (an image file, a
 * storage pool volume) is the platform's to know. Restore points made before this was so also carry `file`,
 * the local platform's image file name; it is ignored.
 */
export interface VmDiskConfig {
  /** Stable disk name within the VM, e.g. `disk0`. */
  name: string;
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
  /** Direct kernel boot (kvm): a VM made from a restore point boots as the VM did. Other platforms ignore it. */
  boot?: KernelBoot;
}

/**
 * A VM that boots a kernel file of the host (libvirt's `<os><kernel>`, `<initrd>`, `<cmdline>`) instead of a
 * boot loader on its disk. The files are the host's, outside the VM's disks and so outside its backups: a VM
 * restored from a point boots only while they are still there.
 */
export interface KernelBoot {
  kernel: string;
  initrd?: string;
  cmdline?: string;
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
