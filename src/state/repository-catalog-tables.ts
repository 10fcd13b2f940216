/**
 * The repository catalog (`tasks/repository-catalog.ts`): which manifests are current and which packs exist and
 * are referenced, per repository (`repository`: its config id, or its location), so that nothing decides what is
 * live from a blob store listing. A repository's row in `repository_catalogs` says its objects were adopted.
 */
export interface RepositoryCatalogsTable {
  repository: string;
  adopted_at: number;
}

export interface RepositoryManifestsTable {
  repository: string;
  id: string;
  restore_point_id: string;
  job_id: string;
  vm_id: string;
  vm_name: string;
  /** ISO-8601, as in the manifest. */
  created_at: string;
  point_type: string;
}

export interface RepositoryPacksTable {
  repository: string;
  pack_id: string;
  added_at: number;
}

/** Manifest → every pack holding one of its blocks. */
export interface RepositoryPackRefsTable {
  repository: string;
  manifest_id: string;
  pack_id: string;
}
