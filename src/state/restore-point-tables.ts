// The tables of what can be restored: jobs, their restore points, each VM's point and its indexed guest files.
// Database (schema.ts) names them and gives the column conventions.

export interface JobsTable {
  id: string;
  name: string;
  /** JSON array of VM names. */
  vm_names: string;
  created_at: number;
}

export interface RestorePointsTable {
  id: string;
  job_id: string;
  created_at: number;
}

export interface VmRestorePointsTable {
  id: string;
  restore_point_id: string;
  job_id: string;
  vm_id: string;
  vm_name: string;
  platform: string;
  hierarchy_root_id: string;
  created_at: number;
  point_type: string;
  /** Indexed | NotIndexed */
  index_state: string;
  index_message: string;
}

export interface CatalogEntriesTable {
  vm_restore_point_id: string;
  /** The volume's id (GuestVolume.id); '' for rows indexed before volumes, all on the volume `/` names. */
  volume: string;
  /** The path inside that volume. */
  path: string;
  parent_path: string;
  name: string;
  type: string;
  size: number;
  mtime: number;
}

/** The volumes of a restore point whose files the catalog holds. */
export interface CatalogVolumesTable {
  vm_restore_point_id: string;
  volume: string;
  disk_name: string;
  partition_index: number | null;
  fs_kind: string;
  /** The Windows drive letter (`C`) the volume's paths are named with; null for the volume `/` names. */
  drive_letter: string | null;
}
