import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { LocalPlatform } from '../../src/platform/local/local-platform.js';
import type { Repository, RestorePointManifest } from '../../src/repository/repository.js';
import type { VmConfig } from '../../src/vm-config.js';

/**
 * A Full restore point of `vm`'s one disk `disk0`, as a backup job makes it. Nothing of the backup stays reachable
 * afterwards (its writer, pack buffers and read ring), as in a server after a backup: a bench that kept the writer in
 * its own scope measured its listing in a process holding 80 MiB more, with V8 collecting far more often.
 */
export async function fullBackupPoint(repository: Repository, platform: LocalPlatform, vm: VmConfig): Promise<RestorePointManifest> {
  const writer = await repository.beginBackup(vm.id);
  const disk = await platform.openDisk(vm.id, 'disk0');
  try {
    await writer.addDisk('disk0', disk);
  } finally {
    await disk.close();
  }
  const { manifest } = await writer.commit({
    id: randomUUID(), restorePointId: randomUUID(), jobId: randomUUID(), vmId: vm.id, vmName: vm.name,
    createdAt: new Date().toISOString(), pointType: 'Full', vm,
  });
  return manifest;
}

/**
 * Reads every pack of the local repository at `dir` once. A backup writes its packs past the page cache
 * (stores/local), so right after it they are cold; the listing benches measure a mount of a repository in the page
 * cache, as they did when the backup's writes filled it, and say so (bench/kvm's rollbacks too).
 */
export function readPacksOnce(dir: string): void {
  execFileSync('find', [dir, '-name', '*.pack', '-exec', 'cat', '{}', '+'], { stdio: ['ignore', 'ignore', 'inherit'] });
  console.log('  (the repository\'s packs were read once after the backup, which writes them past the page cache: what follows reads a repository in the page cache)');
}
