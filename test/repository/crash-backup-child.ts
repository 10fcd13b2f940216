/**
 * Child process for the crash test: backs up one image and reports progress on stdout, one line per
 * event, so the parent can SIGKILL it at chosen moments. Usage: crash-backup-child.ts <repo> <image> <vmId>
 */
import { randomUUID } from 'node:crypto';
import { ImageFileSource } from '../../src/disks/image-file-source.js';
import { openRepository } from '../../src/repository/open-repository.js';
import { vmConfig } from './repository-fixtures.js';

const [repoPath, imagePath, vmId] = process.argv.slice(2);
const repo = await openRepository(repoPath, { packSize: 8 * 1024 * 1024 });
const writer = await repo.beginBackup(vmId);
process.stdout.write('started\n');
const source = await ImageFileSource.open(imagePath);
await writer.addDisk('disk0', source, {
  onProgress: (p) => process.stdout.write(`progress ${p.bytesDone / p.bytesTotal}\n`),
});
await source.close();
process.stdout.write('committing\n');
await writer.commit({
  id: randomUUID(),
  restorePointId: randomUUID(),
  jobId: 'job-crash',
  vmId,
  vmName: vmId,
  createdAt: new Date().toISOString(),
  pointType: 'Full',
  vm: vmConfig(vmId),
});
process.stdout.write('committed\n');
await repo.close();
