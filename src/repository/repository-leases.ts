import { conflict } from '../errors.js';

/** A lease held on the repository; `release` gives it back and is safe to call more than once. */
export interface HeldLease {
  release(): Promise<void>;
  /**
   * Resolves only while the lease is still this holder's (and refreshes it); CONFLICT once it was lost — taken
   * over after missed heartbeats, so another process may have run meanwhile. Called before work that is only safe
   * under the lease becomes visible (a backup's manifest).
   */
  confirm(): Promise<void>;
}

/**
 * The exclusions the repository needs between the processes and nodes that share it: a backup of a VM writes
 * packs the index does not show yet, so gc must not run beside it, and two backups of one VM must not write at
 * once. They live where the processes coordinate — the state store (`tasks/repository-leases.ts`) — never in
 * the blob store: no store needs conditional writes, and a store read that fails never frees a lease
 * (ARCHITECTURE.md, "Storage").
 */
export interface RepositoryLeases {
  /** Held while a backup of `vmId` writes; CONFLICT while another backup of that VM writes or gc runs. */
  backup(vmId: string): Promise<HeldLease>;
  /** Held while gc deletes; CONFLICT while any backup writes. */
  gc(): Promise<HeldLease>;
}

/**
 * The same exclusions within this process only: for a repository opened without a state store (repository
 * tests, benchmarks). The server and the CLI always pass the state store's leases.
 */
export class ProcessLeases implements RepositoryLeases {
  private readonly backups = new Set<string>();
  private gcRunning = false;

  async backup(vmId: string): Promise<HeldLease> {
    if (this.backups.has(vmId)) throw conflict(`a backup of VM ${vmId} is already running in this process`);
    if (this.gcRunning) throw conflict(`garbage collection is running; try the backup of VM ${vmId} later`);
    this.backups.add(vmId);
    return once(async () => void this.backups.delete(vmId));
  }

  async gc(): Promise<HeldLease> {
    if (this.gcRunning) throw conflict('garbage collection is already running in this process');
    if (this.backups.size > 0) throw conflict(`cannot collect garbage while backups run (${[...this.backups].map((id) => `VM ${id}`).join(', ')})`);
    this.gcRunning = true;
    return once(async () => void (this.gcRunning = false));
  }
}

/** A lease whose release runs once; `confirm` answers whether it is still held (within a process it cannot be lost). */
export function once(release: () => Promise<void>, confirm: () => Promise<void> = async () => {}): HeldLease {
  let done = false;
  return {
    release: async () => {
      if (done) return;
      done = true;
      await release();
    },
    confirm: async () => {
      if (done) throw conflict('this lease was already released');
      await confirm();
    },
  };
}
