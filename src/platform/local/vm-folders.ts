import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { corrupt } from '../../errors.js';
import type { VmConfig } from '../platform.js';
import { writeFileAtomic } from './atomic-file.js';
import { datastoreDir, type PlatformFile } from './platform-file.js';

export const VM_CONFIG_FILE = 'vm.json';

/** A VM's config together with the folder it was read from. */
export interface LocatedVm {
  config: VmConfig;
  dir: string;
}

/** Reads `<dir>/vm.json`; undefined when the folder has none (e.g. a name claimed by a commit in progress). */
export async function readVmConfig(dir: string): Promise<VmConfig | undefined> {
  const path = join(dir, VM_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as VmConfig;
  } catch (e) {
    throw corrupt(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

export async function writeVmConfig(dir: string, config: VmConfig): Promise<void> {
  await writeFileAtomic(join(dir, VM_CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
}

async function subfolders(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Every VM on every datastore, read fresh from disk: the CLI and the server change the same data
 * directory, so nothing is cached between calls. Dot folders (staging, deletion) are not VMs.
 */
export async function scanVms(dataDir: string, file: PlatformFile): Promise<LocatedVm[]> {
  const found: LocatedVm[] = [];
  for (const ds of file.datastores) {
    const root = datastoreDir(dataDir, ds);
    for (const name of (await subfolders(root)).sort()) {
      if (name.startsWith('.')) continue;
      const dir = join(root, name);
      const config = await readVmConfig(dir);
      if (config) found.push({ config, dir });
    }
  }
  return found;
}
