import { corrupt } from '../../errors.js';

/** NTFS protects multi-sector structures in 512-byte strides, whatever the sector size. */
const STRIDE = 512;

/** Whether `b` holds the ASCII `magic` at `at`, compared byte by byte (no string made per record). */
function hasMagic(b: Buffer, at: number, magic: string): boolean {
  for (let i = 0; i < magic.length; i++) if (b[at + i] !== magic.charCodeAt(i)) return false;
  return true;
}

/**
 * applyFixups for the record at `b[at, at + length)`, in place, without slicing `b` or naming the record: the reason
 * it does not pass, or `undefined` when it does (the strides before a failing one are already fixed up then).
 */
export function fixupsFailAt(b: Buffer, at: number, length: number, magic: string): string | undefined {
  if (length < 48 || at < 0 || at + length > b.length || !hasMagic(b, at, magic)) return `has no ${magic} signature`;
  const usaOffset = b.readUInt16LE(at + 4);
  const usaCount = b.readUInt16LE(at + 6);
  const strides = length / STRIDE;
  if (usaCount !== strides + 1 || usaOffset + usaCount * 2 > length || usaOffset % 2 !== 0) {
    return `has an invalid update sequence array (${usaCount} entries at ${usaOffset})`;
  }
  const usa = at + usaOffset;
  const usn = b.readUInt16LE(usa);
  for (let i = 1; i < usaCount; i++) {
    const end = at + i * STRIDE - 2;
    if (b.readUInt16LE(end) !== usn) return `fails its update sequence check in stride ${i}`;
    b[end] = b[usa + i * 2];
    b[end + 1] = b[usa + i * 2 + 1];
  }
  return undefined;
}

/**
 * Applies the update sequence array of a multi-sector record (a FILE or INDX record) in place: the last two bytes of
 * every 512-byte stride must hold the update sequence number and are replaced by the saved bytes. A stride that
 * does not match is a torn or damaged write: CORRUPT.
 */
export function applyFixups(record: Buffer, magic: string, what: string): void {
  const failure = fixupsFailAt(record, 0, record.length, magic);
  if (failure) throw corrupt(`${what} ${failure}`);
}
