import { resolve } from 'node:path';
import type { PlatformSpec } from '../config.js';
import { OpenemError } from '../errors.js';

const badConfig = (message: string) => new OpenemError('BAD_CONFIG', message);
import { KvmPlatform } from './kvm/kvm-platform.js';
import { LocalPlatform } from './local/local-platform.js';
import type { Platform, PlatformKind, PresentedPlatform } from './platform.js';
import { PlatformRegistry } from './platform-registry.js';

/** How each kind of platform is opened from its configuration entry; a new platform adds one line. */
const OPENERS: { [K in PlatformKind]: (spec: PlatformSpec, datastoresDir: string, libvirtUri: string | undefined) => Promise<Platform> } = {
  // The first local platform keeps its VMs in the datastores folder (the data directory unless set); another one
  // names a folder of its own, relative to it.
  local: (spec, datastoresDir) => LocalPlatform.open(spec.dataDir ? resolve(datastoresDir, spec.dataDir) : datastoresDir, { id: spec.id }),
  kvm: (spec, datastoresDir, libvirtUri) => {
    const uri = spec.uri ?? libvirtUri;
    if (!uri) throw badConfig(`platform '${spec.id}': a kvm platform needs a libvirt URI ("uri", OPENEM_LIBVIRT_URI or --libvirt-uri)`);
    const presentAs = spec.presentAs ?? 'vsphere';
    if (!isPresentation(presentAs)) throw badConfig(`platform '${spec.id}': presentAs '${presentAs}' is not vsphere, hyperv or vcloud`);
    const shutdown = spec.shutdownTimeoutSeconds !== undefined ? { shutdownTimeoutMs: spec.shutdownTimeoutSeconds * 1000 } : {};
    const consoles = spec.consoleLogDir ? { consoleLogDir: resolve(datastoresDir, spec.consoleLogDir) } : {};
    const accelerator = spec.accelerator;
    if (accelerator !== undefined && accelerator !== 'kvm' && accelerator !== 'tcg') throw badConfig(`platform '${spec.id}': accelerator '${accelerator}' is not kvm or tcg`);
    return KvmPlatform.open({ id: spec.id, uri, presentAs, ...(spec.pool ? { pool: spec.pool } : {}), ...shutdown, ...consoles, ...(accelerator ? { accelerator } : {}) });
  },
};

function isPresentation(p: string): p is PresentedPlatform {
  return p === 'vsphere' || p === 'hyperv' || p === 'vcloud';
}

function isPlatformKind(kind: string): kind is PlatformKind {
  return Object.hasOwn(OPENERS, kind);
}

/** Opens every platform the configuration names (`platforms`, by default one local platform in the data directory). */
export async function openPlatforms(config: { dataDir: string; datastoresDir?: string; platforms: readonly PlatformSpec[]; libvirtUri?: string }): Promise<PlatformRegistry> {
  const opened: Platform[] = [];
  // A libvirt URI given alone (OPENEM_LIBVIRT_URI, --libvirt-uri) adds a kvm platform beside the configured ones.
  const specs = config.libvirtUri && !config.platforms.some((s) => s.kind === 'kvm') ? [...config.platforms, { id: 'kvm', kind: 'kvm' }] : config.platforms;
  for (const spec of specs) {
    if (!isPlatformKind(spec.kind)) throw badConfig(`platform '${spec.id}': unknown kind '${spec.kind}' (known: ${Object.keys(OPENERS).join(', ')})`);
    opened.push(await OPENERS[spec.kind](spec, config.datastoresDir ?? config.dataDir, config.libvirtUri));
  }
  return new PlatformRegistry(opened);
}
