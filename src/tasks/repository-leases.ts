import type { BaseContext } from '../context.js';
import { conflict } from '../errors.js';
import { once, type HeldLease, type RepositoryLeases } from '../repository/repository-leases.js';
import type { LeasesTable } from '../state/schema.js';
import { hostnameOf } from './lease-holder.js';
import { NamedLeases, type NamedLeasesOptions } from './named-leases.js';

const GC = 'repository-gc';
const BACKUP = 'repository-backup:';

/**
 * The repository's exclusions (`RepositoryLeases`) as named leases in the state store, so the CLI, the server and
 * every node on one PostgreSQL exclude each other: a lease per VM being backed up, one for gc. Each side takes its
 * own lease first and then looks for the other's, so of a backup and a gc starting together at least one sees
 * the other and gives way.
 */
export class StateRepositoryLeases implements RepositoryLeases {
  readonly leases: NamedLeases;

  constructor(ctx: BaseContext, options: NamedLeasesOptions = {}) {
    this.leases = new NamedLeases(ctx, options);
  }

  async backup(vmId: string): Promise<HeldLease> {
    const lease = await this.take(`${BACKUP}${vmId}`, `a backup of VM ${vmId}`);
    const gc = await this.leases.live(GC).catch(async (e) => {
      await lease.release();
      throw e;
    });
    if (gc.length > 0) {
      await lease.release();
      throw conflict(`garbage collection is running (${describe(gc[0])}); try the backup of VM ${vmId} later`);
    }
    return lease;
  }

  async gc(): Promise<HeldLease> {
    const lease = await this.take(GC, 'garbage collection');
    const backups = await this.leases.live(BACKUP).catch(async (e) => {
      await lease.release();
      throw e;
    });
    if (backups.length > 0) {
      await lease.release();
      throw conflict(`cannot collect garbage while backups run (${backups.map((b) => `VM ${b.name.slice(BACKUP.length)}: ${describe(b)}`).join(', ')})`);
    }
    return lease;
  }

  /** Stops the heartbeat (shutdown). */
  stop(): void {
    this.leases.stop();
  }

  private async take(name: string, what: string): Promise<HeldLease> {
    const r = await this.leases.take(name, what);
    if ('heldBy' in r) throw conflict(`${what} is already running (${describe(r.heldBy)})`);
    return once(() => r.lease.release(), () => r.lease.confirm());
  }
}

/** Who holds a lease, for a refusal: `held by pid 4242 on node-b since 2025-01-01T00:00:00.000Z`. */
function describe(row: LeasesTable): string {
  return `held by pid ${row.pid} on ${hostnameOf(row.host)} since ${new Date(Number(row.acquired_at)).toISOString()}`;
}
