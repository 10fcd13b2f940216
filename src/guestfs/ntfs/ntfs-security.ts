import { corrupt } from '../../errors.js';

/** Names Windows gives the well-known owners of system files; any other owner is shown as its SID. */
const WELL_KNOWN: Record<string, string> = {
  'S-1-5-18': 'NT AUTHORITY\\SYSTEM',
  'S-1-5-19': 'NT AUTHORITY\\LOCAL SERVICE',
  'S-1-5-20': 'NT AUTHORITY\\NETWORK SERVICE',
  'S-1-5-32-544': 'BUILTIN\\Administrators',
  'S-1-5-32-545': 'BUILTIN\\Users',
  'S-1-1-0': 'Everyone',
  'S-1-3-0': 'CREATOR OWNER',
  'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464': 'NT SERVICE\\TrustedInstaller',
};

/** A SID in its string form (`S-1-5-32-544`), read at `at`; CORRUPT when it runs past `b`. */
export function sidString(b: Buffer, at: number): string {
  if (at + 8 > b.length) throw corrupt('NTFS security descriptor has a SID outside it');
  const count = b[at + 1];
  if (at + 8 + count * 4 > b.length) throw corrupt('NTFS security descriptor has a SID outside it');
  const authority = b.readUIntBE(at + 2, 6);
  const parts = [`S-${b[at]}-${authority}`];
  for (let i = 0; i < count; i++) parts.push(String(b.readUInt32LE(at + 8 + i * 4)));
  return parts.join('-');
}

/** The owner of a self-relative security descriptor, by name where Windows has a well-known one; `undefined` if none. */
export function ownerOf(sd: Buffer): string | undefined {
  if (sd.length < 20) throw corrupt('NTFS security descriptor is truncated');
  const ownerOffset = sd.readUInt32LE(4);
  if (ownerOffset === 0) return undefined;
  const sid = sidString(sd, ownerOffset);
  return WELL_KNOWN[sid] ?? sid;
}

/** The longest SID: a revision, a count of up to 255 sub-authorities, a 6-byte authority, then the sub-authorities. */
const MAX_SID = 8 + 255 * 4;

/**
 * Owners of descriptors read one after another, for a listing: most files of a folder have one owner, so when a
 * descriptor's owner SID is byte for byte the one before, its name is not built again. The same answers, and the same
 * CORRUPT, as ownerOf.
 */
export class OwnerNames {
  private readonly sid = Buffer.alloc(MAX_SID);
  private sidLength = 0;
  private name: string | undefined;

  /** Whether the SID at `b[at, at + sidLength)` is the last one (compared here: a SID is a few dozen bytes). */
  private isLastSid(b: Buffer, at: number): boolean {
    for (let i = 0; i < this.sidLength; i++) if (b[at + i] !== this.sid[i]) return false;
    return true;
  }

  /** ownerOf(b[start, end)) without slicing `b` when the owner SID is the last one's. */
  ownerAt(b: Buffer, start: number, end: number): string | undefined {
    if (end - start >= 20) {
      const ownerOffset = b.readUInt32LE(start + 4);
      if (ownerOffset === 0) return undefined;
      const at = start + ownerOffset;
      if (at + 8 <= end) {
        const length = 8 + b[at + 1] * 4;
        if (at + length <= end && length === this.sidLength && this.isLastSid(b, at)) return this.name;
      }
    }
    const name = ownerOf(b.subarray(start, end));
    // The key is the owner SID ownerOf read, never the header: a descriptor without an owner leaves the cache alone.
    if (name === undefined) return undefined;
    const at = start + b.readUInt32LE(start + 4);
    this.sidLength = b.copy(this.sid, 0, at, at + 8 + b[at + 1] * 4);
    this.name = name;
    return name;
  }
}
