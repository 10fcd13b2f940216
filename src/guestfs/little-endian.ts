/**
 * Little-endian fields read byte by byte, for the per-entry loops of a listing (ext4 dirents and inodes, NTFS file
 * records). A listing's first pass runs before its code is optimized, and there each Buffer read method is a call
 * through node's argument and bounds checks; these are a few element loads. The caller keeps `i` in bounds (past the
 * end they read garbage rather than throw).
 */
export function u16le(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8);
}

export function u32le(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16)) + b[i + 3] * 0x1000000;
}
