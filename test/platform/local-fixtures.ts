import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { LocalPlatform } from '../../src/platform/local/local-platform.js';
import type { VmConfig } from '../../src/platform/platform.js';

/** A fresh temp folder, removed when the test file finishes. */
export async function tempDir(prefix = 'openem-platform-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function openFreshPlatform(): Promise<{ dataDir: string; platform: LocalPlatform }> {
  const dataDir = await tempDir('openem-data-');
  return { dataDir, platform: await LocalPlatform.open(dataDir) };
}

/** A small guest tree: a file, a nested file, a symlink and an empty folder. */
export async function smallGuestTree(): Promise<string> {
  const dir = await tempDir('openem-src-');
  await mkdir(join(dir, 'etc'));
  await writeFile(join(dir, 'etc/hostname'), 'test01\n');
  await mkdir(join(dir, 'home/alice'), { recursive: true });
  await writeFile(join(dir, 'home/alice/notes.txt'), 'hello from alice\n');
  await symlink('/etc/hostname', join(dir, 'etc/hostname-link'));
  await mkdir(join(dir, 'tmp'));
  return dir;
}

/** A template for stageNewVm with one disk. */
export function templateVm(name: string, diskSize = 8 * 1024 * 1024): Omit<VmConfig, 'id' | 'createdAt'> {
  return {
    name,
    cpus: 1,
    memoryMiB: 512,
    powerState: 'PoweredOff',
    guestOs: 'linux',
    platform: 'vsphere',
    hierarchyRootId: '',
    datastoreId: '',
    disks: [{ name: 'disk0', size: diskSize }],
  };
}
