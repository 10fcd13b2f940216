/**
 * An entire-VM restore as the service understands it, after the API has parsed the RestoreSpec and applied
 * the platform rules (seed 001). Free of wire names: the API maps `VmRestoreSpec` onto this.
 */
export interface VmRestoreRequest {
  /** The VM restore point whose data is written. */
  vmRestorePointId: string;
  powerOnAfterRestore: boolean;
  /** Write only the blocks that differ from the restore point (seed 001 "QuickRollback"). */
  quickRollback: boolean;
  /** Where the data goes: back into the original VM, or into a new VM beside it. */
  target: InPlaceTarget | NewVmTarget;
}

export interface InPlaceTarget {
  kind: 'original';
}

export interface NewVmTarget {
  kind: 'new-vm';
  /** KeepOriginalVM restores as `<name>_restored`; Cloud Director's VmNewName names it. */
  name: string;
  /** Datastore to place the VM on; the original VM's datastore when absent. */
  datastoreId?: string;
}

/** The name a KeepOriginalVM restore gives the new VM when the request names none. */
export function keepOriginalName(vmName: string): string {
  return `${vmName}_restored`;
}
