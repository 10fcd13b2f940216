import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { PASSABLE_DIR_MODE } from '../../host/private-data-dir.js';
import { startPrivateLibvirtd } from '../../platform/kvm/private-libvirtd.js';

export interface DemoLibvirt {
  /** The configuration with the daemon's URI as its libvirt URI (unchanged when one was configured). */
  config: Config;
  /** Ends the daemon, if one was started; its folder stays for the next start. */
  stop(): Promise<void>;
}

/** Whether `serve --demo kvm` starts its own daemon: when the configuration names no libvirt URI (`libvirtUri`, a kvm platform's `uri`). */
export function demoNeedsPrivateLibvirt(config: Config): boolean {
  return config.libvirtUri === undefined && !config.platforms.some((p) => p.kind === 'kvm' && p.uri !== undefined);
}

/**
 * `serve --demo kvm`: when no libvirt is configured, a private libvirt daemon in `<data>/libvirt` (its own
 * sockets, no system service touched) whose URI becomes the configuration's libvirt URI, so a kvm platform is
 * opened on it: the config file's kvm platform without a `uri` (presented as it says), else one presented as vSphere. The daemon runs as
 * nobody, who must pass through the data directory to reach its folder: the data directory becomes 0711 (entered,
 * not listed); everything in it stays 0700/0600.
 */
export async function startDemoLibvirt(config: Config): Promise<DemoLibvirt> {
  if (!demoNeedsPrivateLibvirt(config)) return { config, stop: async () => undefined };
  await chmod(config.dataDir, PASSABLE_DIR_MODE);
  const libvirt = await startPrivateLibvirtd({ dir: join(config.dataDir, 'libvirt') });
  return { config: { ...config, libvirtUri: libvirt.uri }, stop: () => libvirt.stop() };
}
