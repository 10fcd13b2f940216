import { corrupt } from '../../errors.js';

/** NTFS protects multi-sector structures in 512-byte strides, whatever the sector size. */
const STRIDE = 512;

/**
 * Applies the update sequence array of a multi-sector record (a FILE or INDX record) in place: the last two bytes of
 * every 512-byte stride must hold the update sequence number and are replaced by the saved bytes. A stride that
 * does not match is a torn or damaged write: CORRUPT.
 */
export function applyFixups(record: Buffer, magic: string, what: string): void {
  if (record.length < 48 || record.toString('latin1', 0, 4) !== magic) throw corrupt(`${what} has no ${magic} signature`);
  const usaOffset = record.readUInt16LE(4);
  const usaCount = record.readUInt16LE(6);
  const strides = record.length / STRIDE;
  if (usaCount !== strides + 1 || usaOffset + usaCount * 2 > record.length || usaOffset % 2 !== 0) {
    throw corrupt(`${what} has an invalid update sequence array (${usaCount} entries at ${usaOffset})`);
  }
  const usn = record.readUInt16LE(usaOffset);
  for (let i = 1; i < usaCount; i++) {
    const at = i * STRIDE - 2;
    if (record.readUInt16LE(at) !== usn) throw corrupt(`${what} fails its update sequence check in stride ${i}`);
    record.writeUInt16LE(record.readUInt16LE(usaOffset + i * 2), at);
  }
}
