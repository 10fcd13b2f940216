import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config, PlatformSpec } from '../../config.js';
import { kvmRunsLinux } from '../../platform/demo/kvm-accelerator-probe.js';
import { PASSABLE_DIR_MODE } from '../../host/private-data-dir.js';
import { startPrivateLibvirtd } from '../../platform/kvm/private-libvirtd.js';

/** The private daemon's folder in the data directory; the demo guests' kernels are in its `boot/`. */
export const DEMO_LIBVIRT_FOLDER = 'libvirt';

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
 * opened on it: the config file's kvm platform without a `uri` (presented as it says), else one presented as
 * vSphere; its accelerator is KVM or TCG as demoAccelerator finds, unless the config file names one. The daemon runs as
 * nobody, who must pass through the data directory to reach its folder: the data directory becomes 0711 (entered,
 * not listed); everything in it stays 0700/0600.
 */
export async function startDemoLibvirt(config: Config): Promise<DemoLibvirt> {
  if (!demoNeedsPrivateLibvirt(config)) return { config, stop: async () => undefined };
  await chmod(config.dataDir, PASSABLE_DIR_MODE);
  const libvirt = await startPrivateLibvirtd({ dir: join(config.dataDir, DEMO_LIBVIRT_FOLDER) });
  try {
    const accelerator = await demoAccelerator(libvirt.dir);
    const configured = config.platforms.find((p) => p.kind === 'kvm');
    const platforms: PlatformSpec[] = configured
      ? config.platforms.map((p) => (p === configured && p.accelerator === undefined ? { ...p, accelerator } : p))
      : [...config.platforms, { id: 'kvm', kind: 'kvm', accelerator }];
    return { config: { ...config, libvirtUri: libvirt.uri, platforms }, stop: () => libvirt.stop() };
  } catch (e) {
    await libvirt.stop();
    throw e;
  }
}

/** The newest kernel in /boot (a cloud kernel when there is one), for the accelerator probe. */
async function newestKernel(): Promise<string | undefined> {
  const kernels = (await readdir('/boot').catch((): string[] => [])).filter((n) => n.startsWith('vmlinuz-'));
  const cloud = kernels.filter((n) => n.endsWith('-cloud-amd64'));
  const newest = (cloud.length ? cloud : kernels).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).pop();
  return newest ? join('/boot', newest) : undefined;
}

/**
 * How the demo's guests run: under KVM when it really runs a Linux guest here (kvm-accelerator-probe.ts: /dev/kvm
 * may open and still hang one), else under TCG. Probed on the first start (up to 20 s when KVM hangs) and kept in
 * the daemon's folder, so later starts do not probe again.
 */
async function demoAccelerator(libvirtDir: string): Promise<'kvm' | 'tcg'> {
  const kept = join(libvirtDir, 'accelerator');
  const known = (await readFile(kept, 'utf8').catch(() => '')).trim();
  if (known === 'kvm' || known === 'tcg') return known;
  const kernel = await newestKernel();
  const accelerator = kernel !== undefined && (await kvmRunsLinux(kernel)) ? 'kvm' : 'tcg';
  await writeFile(kept, `${accelerator}\n`, { mode: 0o600 });
  return accelerator;
}
