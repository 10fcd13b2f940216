import { corrupt } from '../errors.js';

/**
 * Pack file layout (all integers big-endian):
 *
 *   header   "OEMPACK1"                                   8 bytes
 *   blobs    block data back to back (zstd frame or raw)  Σ length
 *   trailer  entry × N                                    45 bytes each
 *            N (u32)                                      4 bytes
 *            "OEMPEND1"                                   8 bytes
 *
 *   entry    SHA-256 of the raw block (32) | offset u32 | length u32 | rawLength u32 | compression u8 (0 raw, 1 zstd)
 *
 * The trailer makes a pack self-describing (its index can be rebuilt from it alone). The separate index
 * object `index/<packId>.idx` is "OEMIDX01" | packSize u64 | N u32 | entry × N, written only after the
 * pack is durable, so an index never points at a pack that may not exist.
 */

export const PACK_MAGIC = Buffer.from('OEMPACK1');
export const PACK_END_MAGIC = Buffer.from('OEMPEND1');
export const INDEX_MAGIC = Buffer.from('OEMIDX01');
export const ENTRY_SIZE = 45;

export type Compression = 0 | 1;
export const COMPRESSION_NONE: Compression = 0;
export const COMPRESSION_ZSTD: Compression = 1;

export interface PackEntry {
  hash: string;
  offset: number;
  length: number;
  rawLength: number;
  compression: Compression;
}

export function packKey(packId: string): string {
  return `packs/${packId.slice(0, 2)}/${packId}.pack`;
}

export function indexKey(packId: string): string {
  return `index/${packId}.idx`;
}

export function packIdOfIndexKey(key: string): string | undefined {
  const m = /^index\/([0-9a-f]+)\.idx$/.exec(key);
  return m?.[1];
}

export function packIdOfPackKey(key: string): string | undefined {
  const m = /^packs\/[0-9a-f]{2}\/([0-9a-f]+)\.pack$/.exec(key);
  return m?.[1];
}

function encodeEntries(entries: readonly PackEntry[], out: Buffer, at: number): void {
  for (const e of entries) {
    out.write(e.hash, at, 32, 'hex');
    out.writeUInt32BE(e.offset, at + 32);
    out.writeUInt32BE(e.length, at + 36);
    out.writeUInt32BE(e.rawLength, at + 40);
    out.writeUInt8(e.compression, at + 44);
    at += ENTRY_SIZE;
  }
}

function decodeEntries(buf: Buffer, at: number, count: number, what: string): PackEntry[] {
  if (buf.length < at + count * ENTRY_SIZE) throw corrupt(`${what}: truncated entry table`);
  const entries: PackEntry[] = new Array(count);
  for (let i = 0; i < count; i++, at += ENTRY_SIZE) {
    const compression = buf.readUInt8(at + 44);
    if (compression > 1) throw corrupt(`${what}: unknown compression ${compression} in entry ${i}`);
    entries[i] = {
      hash: buf.toString('hex', at, at + 32),
      offset: buf.readUInt32BE(at + 32),
      length: buf.readUInt32BE(at + 36),
      rawLength: buf.readUInt32BE(at + 40),
      compression: compression as Compression,
    };
  }
  return entries;
}

export function encodePackTrailer(entries: readonly PackEntry[]): Buffer {
  const out = Buffer.allocUnsafe(entries.length * ENTRY_SIZE + 12);
  encodeEntries(entries, out, 0);
  out.writeUInt32BE(entries.length, entries.length * ENTRY_SIZE);
  PACK_END_MAGIC.copy(out, entries.length * ENTRY_SIZE + 4);
  return out;
}

/** Size of a pack holding `entries` whose blobs total `dataBytes`. */
export function packSizeOf(entryCount: number, dataBytes: number): number {
  return PACK_MAGIC.length + dataBytes + entryCount * ENTRY_SIZE + 12;
}

export function encodePackIndex(packSize: number, entries: readonly PackEntry[]): Buffer {
  const out = Buffer.allocUnsafe(8 + 8 + 4 + entries.length * ENTRY_SIZE);
  INDEX_MAGIC.copy(out, 0);
  out.writeBigUInt64BE(BigInt(packSize), 8);
  out.writeUInt32BE(entries.length, 16);
  encodeEntries(entries, out, 20);
  return out;
}

export function decodePackIndex(buf: Buffer, packId: string): { packSize: number; entries: PackEntry[] } {
  const what = `index of pack ${packId}`;
  if (buf.length < 20 || !buf.subarray(0, 8).equals(INDEX_MAGIC)) throw corrupt(`${what}: bad header`);
  const packSize = Number(buf.readBigUInt64BE(8));
  const count = buf.readUInt32BE(16);
  if (buf.length !== 20 + count * ENTRY_SIZE) throw corrupt(`${what}: length does not match its ${count} entries`);
  return { packSize, entries: decodeEntries(buf, 20, count, what) };
}

/** Reads the entry table from a whole pack's bytes (used by check to compare with the index). */
export function decodePackTrailer(pack: Buffer, packId: string): PackEntry[] {
  const what = `pack ${packId}`;
  if (pack.length < 20 || !pack.subarray(0, 8).equals(PACK_MAGIC)) throw corrupt(`${what}: bad header`);
  if (!pack.subarray(pack.length - 8).equals(PACK_END_MAGIC)) throw corrupt(`${what}: bad trailer`);
  const count = pack.readUInt32BE(pack.length - 12);
  const at = pack.length - 12 - count * ENTRY_SIZE;
  if (at < 8) throw corrupt(`${what}: trailer claims ${count} entries, more than fit`);
  return decodeEntries(pack, at, count, what);
}
