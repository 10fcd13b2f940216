import { resolve } from 'node:path';
import type { PlatformSpec } from '../config.js';
import { badRequest } from '../errors.js';
import { LocalPlatform } from './local/local-platform.js';
import type { Platform, PlatformKind } from './platform.js';
import { PlatformRegistry } from './platform-registry.js';

/** How each kind of platform is opened from its configuration entry; a new platform adds one line. */
const OPENERS: { [K in PlatformKind]: (spec: PlatformSpec, dataDir: string) => Promise<Platform> } = {
  // The first local platform keeps its VMs in the data directory; another one names a folder of its own.
  local: (spec, dataDir) => LocalPlatform.open(spec.dataDir ? resolve(dataDir, spec.dataDir) : dataDir, { id: spec.id }),
};

function isPlatformKind(kind: string): kind is PlatformKind {
  return Object.hasOwn(OPENERS, kind);
}

/** Opens every platform the configuration names (`platforms`, by default one local platform in the data directory). */
export async function openPlatforms(config: { dataDir: string; platforms: readonly PlatformSpec[] }): Promise<PlatformRegistry> {
  const opened: Platform[] = [];
  for (const spec of config.platforms) {
    if (!isPlatformKind(spec.kind)) throw badRequest(`platform '${spec.id}': unknown kind '${spec.kind}' (known: ${Object.keys(OPENERS).join(', ')})`);
    opened.push(await OPENERS[spec.kind](spec, config.dataDir));
  }
  return new PlatformRegistry(opened);
}
