import type { AppContext } from '../../src/services/app-services.js';
import type { RepositoryDiskSource } from '../../src/repository/repository-disk-source.js';
import type { Repository, RestorePointManifest } from '../../src/repository/repository.js';

/**
 * The context a mount path needs (only the repository), with every disk it opens kept in `disks` so a bench can count
 * their work (blocks decoded, pack reads) after a listing.
 */
export function countingMountContext(repository: Repository): { ctx: AppContext; disks: RepositoryDiskSource[] } {
  const disks: RepositoryDiskSource[] = [];
  const ctx = {
    repository: {
      readManifest: (id: string) => repository.readManifest(id),
      openDisk: async (m: RestorePointManifest, name: string) => {
        const d = (await repository.openDisk(m, name)) as RepositoryDiskSource;
        disks.push(d);
        return d;
      },
    },
  } as unknown as AppContext;
  return { ctx, disks };
}
