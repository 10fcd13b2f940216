import { mkdir, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, notFound, OpenemError } from '../../errors.js';
import type { DiskWriter, StagedVm, VmConfig } from '../platform.js';
import { syncDirectory } from '../../host/sync-directory.js';
import { ImageFileWriter } from './image-file-writer.js';
import { PRIVATE_DIR_MODE } from '../../host/private-data-dir.js';

export interface StagedVmHooks {
  /** Throws `conflict` if another VM already has this name (on any datastore). */
  assertNameFree(name: string): Promise<void>;
  fallocatePath: string | undefined;
  /** The image file a disk of the staged VM is in. */
  imageFileFor(diskName: string): string;
}

/**
 * A VM folder built under `.staging-m<machine>-b<boot>-<pid>-<uuid>` next to where it will live. `commit` claims the final
 * name with mkdir (which fails if it exists) and then renames the staging folder over that empty
 * placeholder, so the VM appears complete or not at all, and two commits of one name cannot both win.
 */
export class LocalStagedVm implements StagedVm {
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(
    readonly config: VmConfig,
    readonly stagingDir: string,
    private readonly datastoreDir: string,
    private readonly hooks: StagedVmHooks,
  ) {}

  /** The staged image file, for tools that build a disk by path (mke2fs); valid until commit or abort. */
  diskImagePath(diskName: string): string {
    if (this.state !== 'open') throw conflict(`staged VM '${this.config.name}' is already ${this.state}`);
    const disk = this.config.disks.find((d) => d.name === diskName);
    if (!disk) throw notFound(`staged VM '${this.config.name}' has no disk '${diskName}'`);
    return join(this.stagingDir, this.hooks.imageFileFor(disk.name));
  }

  async openDiskForWrite(diskName: string): Promise<DiskWriter> {
    return ImageFileWriter.open(this.diskImagePath(diskName), this.hooks.fallocatePath);
  }

  async commit(): Promise<VmConfig> {
    if (this.state !== 'open') throw conflict(`staged VM '${this.config.name}' is already ${this.state}`);
    await this.hooks.assertNameFree(this.config.name);
    const target = join(this.datastoreDir, this.config.name);
    try {
      await mkdir(target, PRIVATE_DIR_MODE);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw conflict(`a VM named '${this.config.name}' already exists`);
      }
      throw e;
    }
    try {
      await rename(this.stagingDir, target);
    } catch (e) {
      await rmdir(target).catch(() => undefined);
      throw new OpenemError('INTERNAL', `could not move staged VM into place: ${(e as Error).message}`, { cause: e });
    }
    await syncDirectory(this.datastoreDir);
    this.state = 'committed';
    return this.config;
  }

  async abort(): Promise<void> {
    if (this.state === 'committed') return;
    this.state = 'aborted';
    await rm(this.stagingDir, { recursive: true, force: true });
  }
}
