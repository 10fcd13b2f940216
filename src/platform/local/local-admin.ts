import { badRequest } from '../../errors.js';
import type { Platform } from '../platform.js';
import type { PlatformRegistry } from '../platform-registry.js';
import { LocalPlatform } from './local-platform.js';

/**
 * The local platform's own operations, which no hypervisor offers through `Platform` (building a VM from a
 * folder, removing a VM, the folders behind a VM): for the `openem vm` CLI and the demo, found in the registry.
 */

/** The first local platform configured; BAD_REQUEST when there is none. */
export function firstLocalPlatform(registry: PlatformRegistry): LocalPlatform {
  const local = registry.platforms.find((p): p is LocalPlatform => p instanceof LocalPlatform);
  if (!local) throw badRequest('no local platform is configured');
  return local;
}

/** `platform` as the local platform it is; BAD_REQUEST naming the platform otherwise. */
export function asLocalPlatform(platform: Platform): LocalPlatform {
  if (!(platform instanceof LocalPlatform)) throw badRequest(`platform '${platform.id}' is a ${platform.kind} platform, not a local one`);
  return platform;
}
