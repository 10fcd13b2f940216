import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { ImageFileSource } from '../../src/disks/image-file-source.js';
import type { Repository, RestorePointManifest } from '../../src/repository/repository.js';
import type { VmConfig } from '../../src/platform/platform.js';

/** What each 1 MiB block of a generated image holds. */
export type BlockKind = 'random' | 'text' | 'zero';

export async function tempDir(prefix = 'openem-repo-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export function textBlock(length = BLOCK_SIZE): Buffer {
  const words = ['backup', 'restore', 'point', 'vm', 'disk', 'block', 'pack', 'index', 'manifest', 'enterprise'];
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  const seed = randomBytes(4096);
  let i = 0;
  while (at < length) {
    const w = `${words[seed[i++ % seed.length] % words.length]} ${seed[i++ % seed.length]}${(i & 7) === 0 ? '\n' : ' '}`;
    at += out.write(w, at);
  }
  return out;
}

export function blockOf(kind: BlockKind, length = BLOCK_SIZE): Buffer {
  if (kind === 'random') return randomBytes(length);
  if (kind === 'text') return textBlock(length);
  return Buffer.alloc(length);
}

/** Writes an image made of the given blocks (the last may be cut by `size`); zero blocks stay holes. */
export async function writeImage(path: string, kinds: BlockKind[], size = kinds.length * BLOCK_SIZE): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let i = 0; i < kinds.length; i++) {
      const length = Math.min(BLOCK_SIZE, size - i * BLOCK_SIZE);
      if (length <= 0) break;
      if (kinds[i] !== 'zero') await fh.write(blockOf(kinds[i], length), 0, length, i * BLOCK_SIZE);
    }
    await fh.truncate(size);
  } finally {
    await fh.close();
  }
}

/** Overwrites block `i` of an image with fresh random data. */
export async function changeBlock(path: string, i: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(randomBytes(BLOCK_SIZE), 0, BLOCK_SIZE, i * BLOCK_SIZE);
  } finally {
    await fh.close();
  }
}

export function vmConfig(id: string, name = `vm-${id.slice(0, 8)}`): VmConfig {
  return {
    id,
    name,
    cpus: 1,
    memoryMiB: 512,
    powerState: 'PoweredOff',
    guestOs: 'linux',
    platform: 'vsphere',
    hierarchyRootId: 'host-1',
    datastoreId: 'ds-1',
    disks: [{ name: 'disk0', size: 0 }],
    createdAt: new Date(0).toISOString(),
  };
}

/** Backs up one image as disk0 of `vmId` and commits a restore point. */
export async function backUpImage(
  repo: Repository,
  vmId: string,
  imagePath: string,
  previous?: RestorePointManifest,
): Promise<{ manifest: RestorePointManifest; stats: import('../../src/repository/repository.js').BackupStats }> {
  const writer = await repo.beginBackup(vmId);
  const source = await ImageFileSource.open(imagePath);
  try {
    await writer.addDisk('disk0', source, { previous: previous?.disks[0] });
  } catch (e) {
    await writer.abort();
    throw e;
  } finally {
    await source.close();
  }
  return writer.commit({
    id: randomUUID(),
    restorePointId: randomUUID(),
    jobId: 'job-1',
    vmId,
    vmName: `vm-${vmId}`,
    createdAt: new Date().toISOString(),
    pointType: previous ? 'Increment' : 'Full',
    parentId: previous?.id,
    vm: vmConfig(vmId),
  });
}

/** Restores every block of disk0 through fetchBlocks into one buffer (zeros where the manifest has holes). */
export async function restoreToBuffer(repo: Repository, manifest: RestorePointManifest): Promise<Buffer> {
  const disk = manifest.disks[0];
  const out = Buffer.alloc(disk.size);
  const wanted = disk.blocks.flatMap((hash, index) => (hash ? [{ index, hash }] : []));
  await repo.fetchBlocks(wanted, async (index, data) => {
    data.copy(out, index * BLOCK_SIZE);
  });
  return out;
}
