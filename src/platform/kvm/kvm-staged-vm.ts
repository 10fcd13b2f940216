import { notFound } from '../../errors.js';
import type { DiskWriter, StagedVm, VmConfig } from '../platform.js';
import { KvmImageWriter } from './kvm-disk-writer.js';

export interface StagedVolume {
  diskName: string;
  file: string;
}

/**
 * A new VM whose volumes exist in the pool but whose domain is not defined yet: volumes are no VMs, so nothing
 * is visible until `commit` defines the domain (libvirt refuses a second domain of one name: CONFLICT).
 */
export class KvmStagedVm implements StagedVm {
  private done = false;

  constructor(
    readonly config: VmConfig,
    private readonly volumes: StagedVolume[],
    private readonly ops: { define(): Promise<void>; assertNameFree(name: string): Promise<void>; removeVolumes(): Promise<void> },
  ) {}

  async openDiskForWrite(diskName: string): Promise<DiskWriter> {
    const v = this.volumes.find((x) => x.diskName === diskName);
    if (!v) throw notFound(`the staged VM has no disk '${diskName}'`);
    return KvmImageWriter.open(v.file, 'qcow2');
  }

  async commit(): Promise<VmConfig> {
    await this.ops.assertNameFree(this.config.name);
    await this.ops.define();
    this.done = true;
    return this.config;
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.ops.removeVolumes();
  }
}
