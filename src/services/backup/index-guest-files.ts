import type { AppContext } from '../app-services.js';
import type { RestorePointManifest } from '../../repository/repository.js';
import type { CatalogEntriesTable } from '../../state/schema.js';
import { isOpenemError } from '../../errors.js';
import type { GuestEntry } from '../../guestfs/guest-filesystem.js';
import type { GuestVolume } from '../../guestfs/guest-volumes.js';
import { openManifestVolumes } from '../guest-restore/restore-point-filesystem.js';

export interface IndexResult {
  state: 'Indexed' | 'NotIndexed';
  message: string;
  entries: number;
}

const BATCH = 500;

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/**
 * Indexes the guest filesystems of a restore point straight from the repository (no restore first) into the
 * catalog tables: volume, path, type, size, modified time. Every filesystem on every disk is looked at; those a guest
 * path can name (the one `/` names, and every drive letter) are indexed. A VM without a filesystem openem can read
 * is backed up but not indexed, and the catalog says why (issue #3 "Bad input"). Only reading the guest may end in
 * "not indexed" (a damaged or unsupported filesystem): a failing store write is the server's fault and surfaces, so
 * the point is not registered with a catalog it does not have.
 */
export async function indexGuestFiles(ctx: AppContext, manifest: RestorePointManifest): Promise<IndexResult> {
  if (manifest.disks.length === 0) return { state: 'NotIndexed', message: 'the VM has no disks', entries: 0 };
  const opened = await openManifestVolumes(manifest, (name) => ctx.repository.openDisk(manifest, name));
  try {
    const volumes = opened.volumes.addressable;
    if (volumes.length === 0) return { state: 'NotIndexed', message: `not indexed: ${opened.reasons.join('; ')}`, entries: 0 };
    await clearCatalog(ctx, manifest.id);
    let count = 0;
    for (const volume of volumes) {
      const indexed = await indexVolume(ctx, manifest.id, volume);
      if (typeof indexed === 'string') {
        await clearCatalog(ctx, manifest.id);
        return { state: 'NotIndexed', message: `not indexed: ${indexed}`, entries: 0 };
      }
      count += indexed;
    }
    return { state: 'Indexed', message: `indexed ${count} entries of ${volumes.map(describeVolume).join(', ')}`, entries: count };
  } finally {
    await opened.close();
  }
}

/** `disk0` (as before volumes), `disk0/2`, or `C: (disk0/2)`. */
function describeVolume(v: GuestVolume): string {
  const where = v.partitionIndex === undefined ? v.diskName : v.id;
  return v.driveLetter ? `${v.driveLetter}: (${where})` : where;
}

async function clearCatalog(ctx: AppContext, vmRestorePointId: string): Promise<void> {
  await ctx.store.db.deleteFrom('catalog_entries').where('vm_restore_point_id', '=', vmRestorePointId).execute();
  await ctx.store.db.deleteFrom('catalog_volumes').where('vm_restore_point_id', '=', vmRestorePointId).execute();
}

/** The entries written, or why the volume could not be read. */
async function indexVolume(ctx: AppContext, vmRestorePointId: string, volume: GuestVolume): Promise<number | string> {
  await ctx.store.db
    .insertInto('catalog_volumes')
    .values({
      vm_restore_point_id: vmRestorePointId,
      volume: volume.id,
      disk_name: volume.diskName,
      partition_index: volume.partitionIndex ?? null,
      fs_kind: volume.kind,
      drive_letter: volume.driveLetter ?? null,
    })
    .execute();
  let batch: CatalogEntriesTable[] = [];
  let count = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await ctx.store.db.insertInto('catalog_entries').values(batch).execute();
    count += batch.length;
    batch = [];
  };
  const entries = volume.fs.walk('/')[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<GuestEntry>;
    try {
      next = await entries.next();
    } catch (e) {
      if (!isOpenemError(e)) throw e;
      return `${volume.id}: ${e.message}`;
    }
    if (next.done) break;
    const e = next.value;
    batch.push({ vm_restore_point_id: vmRestorePointId, volume: volume.id, path: e.path, parent_path: parentOf(e.path), name: e.name, type: e.type, size: e.size, mtime: e.mtime.getTime() });
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return count;
}
