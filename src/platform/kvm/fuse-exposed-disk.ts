import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenemError } from '../../errors.js';
import { spawnHelper } from '../../host/helper-process.js';
import type { ExposedDisk } from '../platform.js';

/**
 * A qcow2 (or raw) image as a raw file that tools editing a disk in place open (fuse2fs): qemu-storage-daemon's
 * FUSE export, writable, until closed. Options go in as JSON built here, so no path is parsed as QEMU options.
 */
export async function exposeImageAsRawFile(image: string, format: string, size: number): Promise<ExposedDisk> {
  const dir = await mkdtemp(join(tmpdir(), 'openem-kvm-expose-'));
  const mountpoint = join(dir, 'disk.raw');
  await writeFile(mountpoint, '');
  const args = [
    '--blockdev', JSON.stringify({ driver: 'file', filename: image, 'node-name': 'file0' }),
    '--blockdev', JSON.stringify({ driver: format, file: 'file0', 'node-name': 'fmt0' }),
    '--export', JSON.stringify({ type: 'fuse', id: 'e0', 'node-name': 'fmt0', mountpoint, writable: true }),
  ];
  const helper = await spawnHelper('qemu-storage-daemon', args, { debianPackage: 'qemu-system-x86' });
  let stderr = '';
  helper.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const close = async () => {
    await helper.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while ((await stat(mountpoint).catch(() => undefined))?.size !== size) {
    if (helper.child.exitCode !== null || helper.child.signalCode !== null || Date.now() > deadline) {
      await close();
      throw new OpenemError('UNAVAILABLE', `qemu-storage-daemon could not expose ${image}: ${stderr.trim() || 'no FUSE export within 10 s'}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { endpoint: { kind: 'raw-file', path: mountpoint }, close };
}
