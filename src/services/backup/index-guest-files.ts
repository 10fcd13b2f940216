import type { AppContext } from '../app-services.js';
import type { RestorePointManifest } from '../../repository/repository.js';
import { openGuestFilesystem } from '../../guestfs/open-guest-filesystem.js';
import type { CatalogEntriesTable } from '../../state/schema.js';
import { isOpenemError } from '../../errors.js';
import type { GuestEntry } from '../../guestfs/guest-filesystem.js';

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
 * Indexes the guest filesystem of a restore point straight from the repository (no restore first) into the
 * catalog tables: path, type, size, modified time. A disk without an ext4 we can read is backed up but not
 * indexed, and the catalog says why (issue #3 "Bad input").
 */
export async function indexGuestFiles(ctx: AppContext, manifest: RestorePointManifest): Promise<IndexResult> {
  const disk = manifest.disks[0];
  if (!disk) return { state: 'NotIndexed', message: 'the VM has no disks', entries: 0 };
  const source = await ctx.repository.openDisk(manifest, disk.name);
  try {
    const opened = await openGuestFilesystem(source);
    if (!opened.fs) return { state: 'NotIndexed', message: `not indexed: ${opened.reason}`, entries: 0 };
    await ctx.store.db.deleteFrom('catalog_entries').where('vm_restore_point_id', '=', manifest.id).execute();
    let batch: CatalogEntriesTable[] = [];
    let count = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await ctx.store.db.insertInto('catalog_entries').values(batch).execute();
      count += batch.length;
      batch = [];
    };
    // Only reading the guest may end in "not indexed" (a damaged or unsupported filesystem): a failing store
    // write is the server's fault and surfaces, so the point is not registered with a catalog it does not have.
    const entries = opened.fs.walk('/')[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<GuestEntry>;
      try {
        next = await entries.next();
      } catch (e) {
        if (!isOpenemError(e)) throw e;
        await ctx.store.db.deleteFrom('catalog_entries').where('vm_restore_point_id', '=', manifest.id).execute();
        return { state: 'NotIndexed', message: `not indexed: ${e.message}`, entries: 0 };
      }
      if (next.done) break;
      const e = next.value;
      batch.push({
        vm_restore_point_id: manifest.id,
        path: e.path,
        parent_path: parentOf(e.path),
        name: e.name,
        type: e.type,
        size: e.size,
        mtime: e.mtime.getTime(),
      });
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    return { state: 'Indexed', message: `indexed ${count} entries of ${disk.name}`, entries: count };
  } finally {
    await source.close();
  }
}
