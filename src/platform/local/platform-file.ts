import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { corrupt, badRequest } from '../../errors.js';
import type { DatastoreInfo, HierarchyRootInfo, PresentedPlatform } from '../platform.js';
import { createFileExclusive } from './atomic-file.js';
import { ensurePrivateDir } from '../../host/private-data-dir.js';

/** `<dataDir>/platform.json`: the hierarchy roots and datastores the local platform presents. */
export interface PlatformFile {
  version: 1;
  hierarchyRoots: HierarchyRootInfo[];
  datastores: DatastoreInfo[];
}

export const PLATFORM_FILE_NAME = 'platform.json';

/**
 * One host per presented platform, so every Enterprise Manager request flavour (vSphere, Hyper-V,
 * Cloud Director) has a hierarchy root to point at; ids are random once and then stable on disk.
 */
export function defaultPlatformFile(newId: () => string): PlatformFile {
  const roots: HierarchyRootInfo[] = [
    { id: newId(), name: 'vcenter.local', hostType: 'VC', platform: 'vsphere' },
    { id: newId(), name: 'hyperv.local', hostType: 'HyperV', platform: 'hyperv' },
    { id: newId(), name: 'vcd.local', hostType: 'VcdSystem', platform: 'vcloud' },
  ];
  const storeNames = ['datastore1', 'hyperv-store', 'vcd-store'];
  return {
    version: 1,
    hierarchyRoots: roots,
    datastores: roots.map((root, i) => ({ id: newId(), name: storeNames[i], hierarchyRootId: root.id })),
  };
}

function parsePlatformFile(text: string, path: string): PlatformFile {
  let parsed: PlatformFile;
  try {
    parsed = JSON.parse(text) as PlatformFile;
  } catch (e) {
    throw corrupt(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (parsed?.version !== 1 || !Array.isArray(parsed.hierarchyRoots) || !Array.isArray(parsed.datastores)) {
    throw corrupt(`${path} is not a version 1 platform file`);
  }
  for (const ds of parsed.datastores) {
    if (!ds.name || ds.name.startsWith('.') || /[/\\\0]/.test(ds.name)) {
      throw corrupt(`${path}: datastore name ${JSON.stringify(ds.name)} is not a plain folder name`);
    }
  }
  return parsed;
}

/** Reads platform.json, creating it with the defaults on first use (first writer wins). */
export async function loadPlatformFile(dataDir: string, newId: () => string): Promise<PlatformFile> {
  const path = join(dataDir, PLATFORM_FILE_NAME);
  try {
    return parsePlatformFile(await readFile(path, 'utf8'), path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await ensurePrivateDir(dataDir);
  await createFileExclusive(path, JSON.stringify(defaultPlatformFile(newId), null, 2) + '\n');
  return parsePlatformFile(await readFile(path, 'utf8'), path);
}

/** The folder that holds a datastore's VM folders. */
export function datastoreDir(dataDir: string, datastore: DatastoreInfo): string {
  return join(dataDir, 'datastores', datastore.name);
}

/** The first datastore on the hierarchy root that presents `platform`. */
export function defaultDatastoreFor(file: PlatformFile, platform: PresentedPlatform): DatastoreInfo {
  for (const root of file.hierarchyRoots) {
    if (root.platform !== platform) continue;
    const ds = file.datastores.find((d) => d.hierarchyRootId === root.id);
    if (ds) return ds;
  }
  throw badRequest(`no datastore presents the platform '${platform}'`);
}
