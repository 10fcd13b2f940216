import type { BlockSource } from '../../disks/block-source.js';
import { corrupt } from '../../errors.js';

/** What the boot sector says about the volume's geometry, every figure checked against the volume's size. */
export interface NtfsBootSector {
  bytesPerSector: number;
  clusterSize: number;
  /** Clusters in the volume (the boot sector's total sectors, which leave out the backup boot sector). */
  totalClusters: number;
  mftLcn: number;
  mftRecordSize: number;
  indexRecordSize: number;
  serialNumber: bigint;
}

const OEM_ID = Buffer.from('NTFS    ', 'latin1');

/** Whether the volume starts with an NTFS boot sector (its OEM id and the 0x55AA end mark). */
export async function hasNtfsSignature(volume: BlockSource): Promise<boolean> {
  const b = await volume.read(0, 512);
  return b.length === 512 && b.subarray(3, 11).equals(OEM_ID) && b.readUInt16LE(510) === 0xaa55;
}

/** A record size from the boot sector: positive = clusters, negative = 2^-v bytes. */
function recordSize(raw: number, clusterSize: number, what: string): number {
  const v = raw > 127 ? raw - 256 : raw;
  const size = v > 0 ? v * clusterSize : v < 0 && v >= -31 ? 2 ** -v : 0;
  if (size < 256 || size > 65536 || (size & (size - 1)) !== 0) throw corrupt(`NTFS ${what} size ${size} is not a power of two between 256 and 65536`);
  return size;
}

/** Reads and checks the boot sector at the start of `volume`; CORRUPT when it is not a sane NTFS volume. */
export async function readBootSector(volume: BlockSource): Promise<NtfsBootSector> {
  const b = await volume.read(0, 512);
  if (b.length < 512 || !b.subarray(3, 11).equals(OEM_ID)) throw corrupt('not an NTFS volume: no NTFS boot sector');
  const bytesPerSector = b.readUInt16LE(0x0b);
  if (bytesPerSector < 256 || bytesPerSector > 4096 || (bytesPerSector & (bytesPerSector - 1)) !== 0) {
    throw corrupt(`NTFS bytes per sector ${bytesPerSector} is invalid`);
  }
  const spcRaw = b[0x0d];
  // Above 128 sectors per cluster, the byte holds a negative power of two (Windows 10's 2 MiB clusters).
  const sectorsPerCluster = spcRaw <= 0x80 ? spcRaw : 2 ** (256 - spcRaw);
  const clusterSize = sectorsPerCluster * bytesPerSector;
  if (sectorsPerCluster === 0 || (sectorsPerCluster & (sectorsPerCluster - 1)) !== 0 || clusterSize > 2 * 1024 * 1024) {
    throw corrupt(`NTFS cluster size ${clusterSize} is invalid`);
  }
  const totalSectors = Number(b.readBigUInt64LE(0x28));
  const volumeBytes = totalSectors * bytesPerSector;
  if (totalSectors <= 0 || !Number.isSafeInteger(volumeBytes) || volumeBytes > volume.size) {
    throw corrupt(`NTFS volume claims ${volumeBytes} bytes, more than the ${volume.size} it lies in`);
  }
  const totalClusters = Math.floor(volumeBytes / clusterSize);
  const mftLcn = Number(b.readBigUInt64LE(0x30));
  if (mftLcn <= 0 || mftLcn >= totalClusters) throw corrupt(`NTFS $MFT cluster ${mftLcn} lies outside the volume`);
  return {
    bytesPerSector,
    clusterSize,
    totalClusters,
    mftLcn,
    mftRecordSize: recordSize(b[0x40], clusterSize, 'file record'),
    indexRecordSize: recordSize(b[0x44], clusterSize, 'index record'),
    serialNumber: b.readBigUInt64LE(0x48),
  };
}
