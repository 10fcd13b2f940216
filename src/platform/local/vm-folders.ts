import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { corrupt } from '../../errors.js';
import type { VmConfig, VmDiskConfig } from '../platform.js';
import { writeFileAtomic } from './atomic-file.js';
import { datastoreDir, type PlatformFile } from './platform-file.js';

export const VM_CONFIG_FILE = 'vm.json';

/** A disk as vm.json keeps it: the platform-neutral disk plus its image file in the VM's folder. */
export interface LocalDiskEntry extends VmDiskConfig {
  /** Image file name, relative to the VM's folder. */
  file: string;
}

/** What `vm.json` holds: the VM's config, with the image file of each disk. */
export type VmJson = Omit<VmConfig, 'disks'> & { disks: LocalDiskEntry[] };

/** A VM's config together with the folder it was read from and what vm.json holds. */
export interface LocatedVm {
  /** The platform-neutral config (no file names). */
  config: VmConfig;
  json: VmJson;
  dir: string;
}

/** The image file a new disk gets: its name, which the platform has checked is a plain file name. */
export function imageFileFor(diskName: string): string {
  return `${diskName}.img`;
}

/** The config others see: vm.json without the local file names. */
export function configOf(json: VmJson): VmConfig {
  return { ...json, disks: json.disks.map(({ name, size }) => ({ name, size })) };
}

/** vm.json for `config`, keeping the image file of every disk `current` already has. */
export function vmJsonFor(config: VmConfig, current?: VmJson): VmJson {
  const files = new Map((current?.disks ?? []).map((d) => [d.name, d.file]));
  return { ...config, disks: config.disks.map((d) => ({ name: d.name, size: d.size, file: files.get(d.name) ?? imageFileFor(d.name) })) };
}

/** Reads `<dir>/vm.json`; undefined when the folder has none (e.g. a name claimed by a commit in progress). */
export async function readVmJson(dir: string): Promise<VmJson | undefined> {
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
    return JSON.parse(text) as VmJson;
  } catch (e) {
    throw corrupt(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

export async function writeVmJson(dir: string, json: VmJson): Promise<void> {
  await writeFileAtomic(join(dir, VM_CONFIG_FILE), JSON.stringify(json, null, 2) + '\n');
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
      const json = await readVmJson(dir);
      if (json) found.push({ config: configOf(json), json, dir });
    }
  }
  return found;
}
