/** Enterprise Manager's JSON representations, as far as clients of the restore API read them (em-api.md §3). */
export interface EmLink {
  Rel: string;
  Type?: string;
  Href: string;
  Name?: string;
}

export interface EmResource {
  Href?: string;
  Type?: string;
  Name?: string;
  UID?: string;
  Links?: EmLink[];
}

export interface EmReference extends EmResource {}

export interface EmVmRestorePoint extends EmResource {
  VmDisplayName: string;
  CreationTimeUTC: string;
  PointType: 'Full' | 'Increment';
  Algorithm?: string;
  VmName?: string;
}

export interface EmTask extends EmResource {
  TaskId: string;
  State: 'Running' | 'OperationFinished' | 'Finished';
  Operation: string;
  Result?: { Success: boolean; Message?: string };
}

export interface EmRestoreSession extends EmResource {
  VmDisplayName: string;
  JobType: string;
  CreationTimeUTC: string;
  EndTimeUTC?: string;
  State: 'Starting' | 'Working' | 'Stopping' | 'Stopped';
  Result: 'None' | 'Success' | 'Warning' | 'Failed';
  Progress?: number;
  FailureMessage?: string;
}

/** EM's Error: in JSON every property is present and `Status` is null; in XML `Status` names the HTTP status. */
export interface EmError {
  Message: string;
  StatusCode: number;
  Status: string | null;
  FirstChanceExceptionMessage?: string | null;
  StackTrace?: string | null;
}

/** The body of `POST /vmRestorePoints/{ID}?action=restore` (seed 001), JSON form. */
export interface EmRestoreSpec {
  VmRestoreSpec: {
    PowerOnAfterRestore: boolean;
    HierarchyRootUid?: string;
    QuickRollback?: boolean;
    KeepOriginalVM?: boolean;
    VmRestoreParameters?: {
      VmRestorePointUid: string;
      VmNewName?: string;
      DatastoreRef?: string;
      OrgVdcStorageProfileRef?: string;
      LinkedCloneVmTemplateRef?: string;
    };
  };
}
