import { stat } from 'node:fs/promises';
import { badRequest } from '../../errors.js';
import { writeGpt, writeGptWithSinglePartition } from '../../disks/gpt-writer.js';
import { writeMbrWithSinglePartition } from '../../disks/mbr-writer.js';
import type { GuestOsKind, PresentedPlatform, VmConfig } from '../platform.js';
import { buildExt4InImage, requireMke2fs } from './ext4-image-builder.js';
import type { LocalPlatform } from './local-platform.js';
import { buildNtfsInImage, requireNtfs3g } from './ntfs-image-builder.js';
import { assertValidVmName } from './vm-name.js';

const MIB = 1024 * 1024;
/** Where the root partition starts, as every current partitioning tool aligns it. */
export const ROOT_PARTITION_OFFSET = MIB;
/** The smallest disk that holds the GPT, 1 MiB alignment and a useful ext4 or NTFS. */
export const MIN_DISK_SIZE = 16 * MIB;

export interface CreateVmFromDirectoryOptions {
  name: string;
  /** Its contents become the root of the VM's ext4 filesystem. */
  fromDir: string;
  /** Virtual disk size in bytes; rounded up to whole MiB so blocks line up with BLOCK_SIZE. */
  size: number;
  platform?: PresentedPlatform;
  /** `linux`: ext4 (GPT). `windows`: NTFS, behind an MBR unless `partitionTable` is `gpt`. */
  os?: GuestOsKind;
  partitionTable?: 'mbr' | 'gpt';
  /** Windows: run on the new NTFS volume (mounted by ntfs-3g) once the folder is copied in, for what a folder cannot hold. */
  ntfsExtras?: (root: string) => Promise<void>;
  cpus?: number;
  memoryMiB?: number;
}

/** GPT's "Microsoft basic data" partition type, which Windows gives its NTFS volumes. */
const GPT_TYPE_MICROSOFT_BASIC_DATA = 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7';
/** The Microsoft reserved partition Windows puts on every GPT disk (no filesystem; 16 MiB since Windows 10). */
const GPT_TYPE_MICROSOFT_RESERVED = 'e3c9e316-0b5c-4db8-817d-f92df00215ae';
const MSR_SIZE = 16 * MIB;

/**
 * Builds a VM whose one disk holds one partition at 1 MiB with a copy of `fromDir`: Linux, a GPT with a Linux
 * partition formatted ext4; Windows, an MBR with an NTFS partition made by ntfs-3g's tools, or a GPT as Windows lays
 * it out: the 16 MiB Microsoft reserved partition at 1 MiB, then the NTFS basic data partition. The last MiB
 * stays outside the partition: the backup GPT lives there. The VM is staged and committed, so a failure leaves
 * nothing visible.
 */
export async function createVmFromDirectory(platform: LocalPlatform, opts: CreateVmFromDirectoryOptions): Promise<VmConfig> {
  const os = opts.os ?? 'linux';
  if (os !== 'linux' && os !== 'windows') throw badRequest(`only Linux and Windows VMs can be built from a directory (got '${os}')`);
  const table = opts.partitionTable ?? (os === 'windows' ? 'mbr' : 'gpt');
  if (os === 'linux' && table !== 'gpt') throw badRequest('a Linux VM built from a directory has a GPT');
  if (os === 'windows') await requireNtfs3g();
  else await requireMke2fs();
  assertValidVmName(opts.name);
  if (!Number.isSafeInteger(opts.size) || opts.size < MIN_DISK_SIZE) {
    throw badRequest(`disk size must be at least ${MIN_DISK_SIZE / MIB} MiB`);
  }
  const fromStat = await stat(opts.fromDir).catch(() => undefined);
  if (!fromStat?.isDirectory()) throw badRequest(`'${opts.fromDir}' is not a directory`);

  const size = Math.ceil(opts.size / MIB) * MIB;
  const withMsr = os === 'windows' && table === 'gpt';
  const partStart = ROOT_PARTITION_OFFSET + (withMsr ? MSR_SIZE : 0);
  const partSize = size - partStart - MIB;
  if (partSize < MIN_DISK_SIZE - 2 * MIB) throw badRequest(`disk size must be at least ${(partStart + MIN_DISK_SIZE - MIB) / MIB} MiB for this layout`);
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
    if (os === 'windows') await buildNtfsInImage(image, partStart, partSize, opts.fromDir, opts.name, opts.ntfsExtras);
    else await buildExt4InImage(image, partStart, partSize, opts.fromDir, opts.name);
    if (table === 'mbr') await writeMbrWithSinglePartition(image, partStart, partSize);
    else if (withMsr) {
      await writeGpt(image, size, [
        { start: ROOT_PARTITION_OFFSET, size: MSR_SIZE, name: 'Microsoft reserved partition', typeGuid: GPT_TYPE_MICROSOFT_RESERVED },
        { start: partStart, size: partSize, name: 'Basic data partition', typeGuid: GPT_TYPE_MICROSOFT_BASIC_DATA },
      ]);
    } else await writeGptWithSinglePartition(image, size, partStart, partSize, 'root');
    const w = await staged.openDiskForWrite('disk0');
    await w.sync();
    await w.close();
    return await staged.commit();
  } catch (e) {
    await staged.abort();
    throw e;
  }
}
