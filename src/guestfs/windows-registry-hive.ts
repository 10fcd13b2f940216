import { corrupt } from '../errors.js';

/** Reads `length` bytes of the hive file at `offset` (short at its end). */
export type HiveRead = (offset: number, length: number) => Promise<Buffer>;

/** A key of a hive: its name and where its subkeys and values are listed. */
export interface HiveKey {
  name: string;
  subkeyCount: number;
  subkeyList: number;
  valueCount: number;
  valueList: number;
}

/** A value of a key: REG_* type and its data (absent when it is stored as big data, which this reader does not follow). */
export interface HiveValue {
  name: string;
  type: number;
  data?: Buffer;
}

const BASE_BLOCK = 4096;
const NO_CELL = 0xffffffff;
/** Bounds that keep a hostile hive from making the reader allocate or loop without end. */
const MAX_CELL = 1024 * 1024;
const MAX_LIST = 65536;
/**
 * Cell bytes one open hive reads in all: the lists' bounds alone allow 65,536 entries that all name one 1 MiB cell
 * (64 GiB read, or kept as value data). What openem asks of a real SYSTEM hive (the root's few subkeys, then
 * MountedDevices' values) is well under 1 MiB.
 */
const MAX_READ = 32 * 1024 * 1024;
/** Data over this size is stored as big data ("db" cells) in hives of version 1.4 and later. */
const BIG_DATA_THRESHOLD = 16344;
/** Where a key ("nk") or value ("vk") record keeps its name, and the flag saying it is in 8-bit characters. */
interface RecordLayout {
  signature: string;
  what: string;
  lengthAt: number;
  nameAt: number;
  flagsAt: number;
  eightBitName: number;
}
const NK: RecordLayout = { signature: 'nk', what: 'key', lengthAt: 0x48, nameAt: 0x4c, flagsAt: 0x02, eightBitName: 0x0020 /* KEY_COMP_NAME */ };
const VK: RecordLayout = { signature: 'vk', what: 'value', lengthAt: 0x02, nameAt: 0x14, flagsAt: 0x10, eightBitName: 0x0001 /* VALUE_COMP_NAME */ };

function recordName(c: Buffer, layout: RecordLayout, offset: number): string {
  const end = layout.nameAt + c.readUInt16LE(layout.lengthAt);
  if (end > c.length) throw corrupt(`registry ${layout.what} at ${offset}: name past its cell`);
  return c.toString(c.readUInt16LE(layout.flagsAt) & layout.eightBitName ? 'latin1' : 'utf16le', layout.nameAt, end);
}

/**
 * A read-only view of a Windows registry hive file ("regf": a base block, then bins of cells; keys are "nk" cells,
 * values "vk" cells, subkey lists "lf"/"lh"/"li" and "ri" of those). It reads only the cells asked for, each checked
 * against the hive's bounds, and no more than MAX_READ bytes of cells in all: a corrupt or hostile hive is an error,
 * never an endless walk or a large allocation.
 * Changes still in the hive's log files (a hive Windows did not write back before the backup) are not seen.
 */
export class RegistryHive {
  /** Cell bytes this hive may still read (MAX_READ). */
  private budget = MAX_READ;

  private constructor(
    private readonly read: HiveRead,
    private readonly binsSize: number,
    private readonly rootCell: number,
    private readonly minorVersion: number,
  ) {}

  static async open(read: HiveRead): Promise<RegistryHive> {
    const base = await read(0, 512);
    if (base.length < 512 || base.toString('latin1', 0, 4) !== 'regf') throw corrupt('not a registry hive (no regf signature)');
    let xor = 0;
    for (let i = 0; i < 0x1fc; i += 4) xor = (xor ^ base.readUInt32LE(i)) >>> 0;
    if (xor !== base.readUInt32LE(0x1fc)) throw corrupt('registry hive base block checksum mismatch');
    const major = base.readUInt32LE(0x14);
    if (major !== 1) throw corrupt(`registry hive version ${major} is not 1`);
    return new RegistryHive(read, base.readUInt32LE(0x28), base.readUInt32LE(0x24), base.readUInt32LE(0x18));
  }

  root(): Promise<HiveKey> {
    return this.key(this.rootCell);
  }

  /** The subkey of `parent` named `name` (case-insensitive, as Windows compares key names); `undefined` if none. */
  async subkey(parent: HiveKey, name: string): Promise<HiveKey | undefined> {
    if (parent.subkeyCount === 0 || parent.subkeyList === NO_CELL) return undefined;
    const wanted = name.toUpperCase();
    for (const offset of await this.subkeyOffsets(parent.subkeyList, true)) {
      const key = await this.key(offset);
      if (key.name.toUpperCase() === wanted) return key;
    }
    return undefined;
  }

  /** The values of `key`, in the order the hive lists them. */
  async values(key: HiveKey): Promise<HiveValue[]> {
    if (key.valueCount === 0 || key.valueList === NO_CELL) return [];
    if (key.valueCount > MAX_LIST) throw corrupt(`registry key ${key.name} lists ${key.valueCount} values`);
    const list = await this.cell(key.valueList);
    if (list.length < key.valueCount * 4) throw corrupt(`registry key ${key.name}: value list shorter than its ${key.valueCount} values`);
    const out: HiveValue[] = [];
    for (let i = 0; i < key.valueCount; i++) out.push(await this.value(list.readUInt32LE(i * 4)));
    return out;
  }

  private async key(offset: number): Promise<HiveKey> {
    const c = await this.record(offset, NK);
    const name = recordName(c, NK, offset);
    return { name, subkeyCount: c.readUInt32LE(0x14), subkeyList: c.readUInt32LE(0x1c), valueCount: c.readUInt32LE(0x24), valueList: c.readUInt32LE(0x28) };
  }

  /** The key offsets an "lf"/"lh"/"li" list holds, or those of the lists an "ri" holds (one level: ri of ri is refused). */
  private async subkeyOffsets(offset: number, allowIndexRoot: boolean): Promise<number[]> {
    const c = await this.cell(offset);
    if (c.length < 4) throw corrupt(`registry subkey list at ${offset} is truncated`);
    const kind = c.toString('latin1', 0, 2);
    const count = c.readUInt16LE(2);
    const stride = kind === 'lf' || kind === 'lh' ? 8 : kind === 'li' || kind === 'ri' ? 4 : 0;
    if (!stride) throw corrupt(`registry cell ${offset} is not a subkey list`);
    if (4 + count * stride > c.length) throw corrupt(`registry subkey list at ${offset}: ${count} entries past its cell`);
    const offsets = Array.from({ length: count }, (_, i) => c.readUInt32LE(4 + i * stride));
    if (kind !== 'ri') return offsets;
    if (!allowIndexRoot) throw corrupt(`registry index root at ${offset} holds another index root`);
    const out: number[] = [];
    for (const list of offsets) {
      out.push(...(await this.subkeyOffsets(list, false)));
      if (out.length > MAX_LIST) throw corrupt(`registry index root at ${offset} lists over ${MAX_LIST} subkeys`);
    }
    return out;
  }

  private async value(offset: number): Promise<HiveValue> {
    const c = await this.record(offset, VK);
    const name = recordName(c, VK, offset);
    const type = c.readUInt32LE(0x0c);
    const rawSize = c.readUInt32LE(4);
    if (rawSize & 0x80000000) {
      // Up to 4 bytes are kept in the data offset field itself.
      const size = rawSize & 0x7fffffff;
      if (size > 4) throw corrupt(`registry value ${name}: ${size} bytes kept inline`);
      return { name, type, data: Buffer.from(c.subarray(8, 8 + size)) };
    }
    if (rawSize > BIG_DATA_THRESHOLD && this.minorVersion >= 4) return { name, type };
    if (rawSize === 0) return { name, type, data: Buffer.alloc(0) };
    const data = await this.cell(c.readUInt32LE(8));
    if (data.length < rawSize) throw corrupt(`registry value ${name}: data cell shorter than its ${rawSize} bytes`);
    return { name, type, data: Buffer.from(data.subarray(0, rawSize)) };
  }

  /** The cell at `offset`, which must hold a record of `layout`'s kind. */
  private async record(offset: number, layout: RecordLayout): Promise<Buffer> {
    const c = await this.cell(offset);
    if (c.length < layout.nameAt || c.toString('latin1', 0, 2) !== layout.signature) throw corrupt(`registry cell ${offset} is not a ${layout.what}`);
    return c;
  }

  /** The data of the allocated cell at `offset` (relative to the first bin), without its size field. */
  private async cell(offset: number): Promise<Buffer> {
    if (offset >= this.binsSize || offset % 8 !== 0) throw corrupt(`registry cell offset ${offset} is outside the hive's bins`);
    const head = await this.read(BASE_BLOCK + offset, 4);
    if (head.length < 4) throw corrupt(`registry cell ${offset} is past the end of the hive file`);
    const size = -head.readInt32LE(0);
    if (size < 8) throw corrupt(`registry cell ${offset} is free or too small`);
    if (size > MAX_CELL || offset + size > this.binsSize) throw corrupt(`registry cell ${offset} of ${size} bytes is too large`);
    this.budget -= size;
    if (this.budget < 0) throw corrupt(`registry hive: more than ${MAX_READ / 1024 / 1024} MiB of cells read (lists that name cells again and again)`);
    const body = await this.read(BASE_BLOCK + offset + 4, size - 4);
    if (body.length < size - 4) throw corrupt(`registry cell ${offset} is past the end of the hive file`);
    return body;
  }
}
