import { stat } from 'node:fs/promises';
import { badRequest } from '../../errors.js';
import { writeGptWithSinglePartition } from '../../disks/gpt-writer.js';
import type { GuestOsKind, PresentedPlatform, VmConfig } from '../platform.js';
import { buildExt4InImage, requireMke2fs } from './ext4-image-builder.js';
import type { LocalPlatform } from './local-platform.js';
import { assertValidVmName } from './vm-name.js';

const MIB = 1024 * 1024;
/** Where the root partition starts, as every current partitioning tool aligns it. */
export const ROOT_PARTITION_OFFSET = MIB;
/** The smallest disk that holds the GPT, 1 MiB alignment and a useful ext4. */
export const MIN_DISK_SIZE = 16 * MIB;

export interface CreateVmFromDirectoryOptions {
  name: string;
  /** Its contents become the root of the VM's ext4 filesystem. */
  fromDir: string;
  /** Virtual disk size in bytes; rounded up to whole MiB so blocks line up with BLOCK_SIZE. */
  size: number;
  platform?: PresentedPlatform;
  os?: GuestOsKind;
  cpus?: number;
  memoryMiB?: number;
}

/**
 * Builds a Linux VM whose one disk holds a GPT with one Linux partition at 1 MiB, formatted ext4 with a
 * copy of `fromDir`. The last MiB stays outside the partition: the backup GPT lives there.
 * The VM is staged and committed, so a failure leaves nothing visible.
 */
export async function createVmFromDirectory(platform: LocalPlatform, opts: CreateVmFromDirectoryOptions): Promise<VmConfig> {
  await requireMke2fs();
  assertValidVmName(opts.name);
  const os = opts.os ?? 'linux';
  if (os !== 'linux') throw badRequest(`only Linux VMs can be built from a directory (got '${os}')`);
  if (!Number.isSafeInteger(opts.size) || opts.size < MIN_DISK_SIZE) {
    throw badRequest(`disk size must be at least ${MIN_DISK_SIZE / MIB} MiB`);
  }
  const fromStat = await stat(opts.fromDir).catch(() => undefined);
  if (!fromStat?.isDirectory()) throw badRequest(`'${opts.fromDir}' is not a directory`);

  const size = Math.ceil(opts.size / MIB) * MIB;
  const partSize = size - ROOT_PARTITION_OFFSET - MIB;
  const staged = await platform.stageNewVm({
    name: opts.name,
    cpus: opts.cpus ?? 2,
    memoryMiB: opts.memoryMiB ?? 2048,
    powerState: 'PoweredOff',
    guestOs: os,
    platform: opts.platform ?? 'vsphere',
    hierarchyRootId: '',
    datastoreId: '',
    disks: [{ name: 'disk0', size }],
  });
  try {
    const image = staged.diskImagePath('disk0');
    await buildExt4InImage(image, ROOT_PARTITION_OFFSET, partSize, opts.fromDir, opts.name);
    await writeGptWithSinglePartition(image, size, ROOT_PARTITION_OFFSET, partSize, 'root');
    const w = await staged.openDiskForWrite('disk0');
    await w.sync();
    await w.close();
    return await staged.commit();
  } catch (e) {
    await staged.abort();
    throw e;
  }
}
