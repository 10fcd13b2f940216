import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { badRequest } from '../errors.js';

const SECTOR = 512;
/** The MBR type of an NTFS (or exFAT) partition. */
export const MBR_TYPE_NTFS = 0x07;
/** Beyond the 1024 cylinders CHS can name, an entry holds this "use the LBA fields" mark, as Windows writes it. */
const CHS_BEYOND = Buffer.from([0xfe, 0xff, 0xff]);

/**
 * Writes an MBR at sector 0 with one active primary partition [partStart, partStart + partSize) of type `type` and
 * a random disk signature, as Windows' disk tools make one. Never touches the partition's own bytes.
 */
export async function writeMbrWithSinglePartition(image: string, partStart: number, partSize: number, type = MBR_TYPE_NTFS): Promise<void> {
  if (partStart % SECTOR !== 0 || partSize % SECTOR !== 0 || partStart <= 0 || partSize <= 0 || (partStart + partSize) / SECTOR > 0xffffffff) {
    throw badRequest(`an MBR cannot describe a partition of ${partSize} bytes at ${partStart}`);
  }
  const mbr = Buffer.alloc(SECTOR);
  randomBytes(4).copy(mbr, 440);
  const e = 446;
  mbr[e] = 0x80;
  CHS_BEYOND.copy(mbr, e + 1);
  mbr[e + 4] = type;
  CHS_BEYOND.copy(mbr, e + 5);
  mbr.writeUInt32LE(partStart / SECTOR, e + 8);
  mbr.writeUInt32LE(partSize / SECTOR, e + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  const fh = await open(image, 'r+');
  try {
    await fh.write(mbr, 0, SECTOR, 0);
  } finally {
    await fh.close();
  }
}
