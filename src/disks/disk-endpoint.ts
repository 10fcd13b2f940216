/**
 * Where a tool that edits a disk in place (fuse2fs, ntfs-3g) reaches the disk's bytes: the target side of a
 * block source. A platform exposes a VM's disk as one of these kinds; each kind names what a tool opens.
 * KVM adds its own (an NBD export), and callers that cannot use a kind refuse it by name.
 */
export type DiskEndpoint = { kind: 'raw-file'; path: string };

/** A disk exposed for editing in place, until `close` (a platform may run an export for it meanwhile). */
export interface ExposedDisk {
  readonly endpoint: DiskEndpoint;
  close(): Promise<void>;
}
