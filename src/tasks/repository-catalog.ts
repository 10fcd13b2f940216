import type { BaseContext } from '../context.js';
import type { CatalogContents, RepositoryCatalog } from '../repository/repository-catalog.js';
import type { ManifestSummary, PointType } from '../repository/repository.js';
import type { RepositoryManifestsTable } from '../state/schema.js';

/** Rows per insert: well under SQLite's and PostgreSQL's limits on bound parameters. */
const ROWS_PER_INSERT = 500;

/**
 * The repository catalog (`RepositoryCatalog`) in the state store, shared by every process and node on it: a
 * manifest is current once its row is there, a pack exists once its row is there, and a manifest's pack
 * references are rows written with it in one transaction. Nothing here reads the blob store, so no store needs
 * list-after-write consistency; `adopt` is the one time a listing is believed (a repository the catalog never saw).
 */
export class StateRepositoryCatalog implements RepositoryCatalog {
  constructor(
    private readonly ctx: Pick<BaseContext, 'store' | 'clock'>,
    /** The repository's catalog key (`catalogKeyOf`). */
    private readonly repository: string,
  ) {}

  async adopt(contents: () => Promise<CatalogContents>): Promise<void> {
    if (await this.adopted()) return;
    const found = await contents();
    const now = this.ctx.clock.now();
    await this.ctx.store.db.transaction().execute(async (tx) => {
      for (const rows of chunks(found.packIds.map((pack_id) => ({ repository: this.repository, pack_id, added_at: now })))) {
        await tx.insertInto('repository_packs').values(rows).onConflict((oc) => oc.doNothing()).execute();
      }
      for (const rows of chunks(found.manifests.map((m) => this.manifestRow(m.summary)))) {
        await tx.insertInto('repository_manifests').values(rows).onConflict((oc) => oc.doNothing()).execute();
      }
      const refs = found.manifests.flatMap((m) => m.packIds.map((pack_id) => ({ repository: this.repository, manifest_id: m.summary.id, pack_id })));
      for (const rows of chunks(refs)) await tx.insertInto('repository_pack_refs').values(rows).onConflict((oc) => oc.doNothing()).execute();
      // Last: a node that sees the mark sees the rows (and two nodes adopting at once insert the same rows).
      await tx.insertInto('repository_catalogs').values({ repository: this.repository, adopted_at: now }).onConflict((oc) => oc.doNothing()).execute();
    });
  }

  async manifests(): Promise<ManifestSummary[]> {
    const rows = await this.ctx.store.db.selectFrom('repository_manifests').selectAll().where('repository', '=', this.repository).orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      restorePointId: r.restore_point_id,
      jobId: r.job_id,
      vmId: r.vm_id,
      vmName: r.vm_name,
      createdAt: r.created_at,
      pointType: r.point_type as PointType,
    }));
  }

  async manifestIds(): Promise<string[]> {
    const rows = await this.ctx.store.db.selectFrom('repository_manifests').select('id').where('repository', '=', this.repository).execute();
    return rows.map((r) => r.id);
  }

  async hasManifest(id: string): Promise<boolean> {
    const row = await this.ctx.store.db.selectFrom('repository_manifests').select('id').where('repository', '=', this.repository).where('id', '=', id).executeTakeFirst();
    return row !== undefined;
  }

  async addManifest(summary: ManifestSummary, packIds: string[]): Promise<void> {
    await this.ctx.store.db.transaction().execute(async (tx) => {
      for (const rows of chunks(packIds.map((pack_id) => ({ repository: this.repository, manifest_id: summary.id, pack_id })))) {
        await tx.insertInto('repository_pack_refs').values(rows).onConflict((oc) => oc.doNothing()).execute();
      }
      await tx.insertInto('repository_manifests').values(this.manifestRow(summary)).execute();
    });
  }

  async removeManifest(id: string): Promise<void> {
    await this.ctx.store.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('repository_manifests').where('repository', '=', this.repository).where('id', '=', id).execute();
      await tx.deleteFrom('repository_pack_refs').where('repository', '=', this.repository).where('manifest_id', '=', id).execute();
    });
  }

  async addPack(packId: string): Promise<void> {
    await this.ctx.store.db
      .insertInto('repository_packs')
      .values({ repository: this.repository, pack_id: packId, added_at: this.ctx.clock.now() })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async packIds(): Promise<string[]> {
    const rows = await this.ctx.store.db.selectFrom('repository_packs').select('pack_id').where('repository', '=', this.repository).execute();
    return rows.map((r) => r.pack_id);
  }

  async referencedPackIds(): Promise<Set<string>> {
    const rows = await this.ctx.store.db.selectFrom('repository_pack_refs').select('pack_id').distinct().where('repository', '=', this.repository).execute();
    return new Set(rows.map((r) => r.pack_id));
  }

  async removePack(packId: string): Promise<void> {
    await this.ctx.store.db.deleteFrom('repository_packs').where('repository', '=', this.repository).where('pack_id', '=', packId).execute();
  }

  private async adopted(): Promise<boolean> {
    const row = await this.ctx.store.db.selectFrom('repository_catalogs').select('repository').where('repository', '=', this.repository).executeTakeFirst();
    return row !== undefined;
  }

  private manifestRow(m: ManifestSummary): RepositoryManifestsTable {
    return {
      repository: this.repository,
      id: m.id,
      restore_point_id: m.restorePointId,
      job_id: m.jobId,
      vm_id: m.vmId,
      vm_name: m.vmName,
      created_at: m.createdAt,
      point_type: m.pointType,
    };
  }
}

function* chunks<T>(rows: T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) yield rows.slice(i, i + ROWS_PER_INSERT);
}
