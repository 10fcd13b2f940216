import { corrupt } from '../../errors.js';
import { LruCache } from '../lru-cache.js';
import { visitIndex } from './ntfs-index-walk.js';
import type { NtfsMft } from './ntfs-mft.js';
import { attributeStream } from './ntfs-node.js';
import { ATTR } from './ntfs-record.js';
import { ownerOf } from './ntfs-security.js';

const SECURE_RECORD = 9;
/** An $SDS entry: hash, security id, its own offset and length (this header included), then the descriptor. */
const SDS_HEADER = 20;
const MAX_DESCRIPTOR = 65536;

/**
 * The volume's shared security descriptors ($Secure, NTFS 3.0 and later): a file's $STANDARD_INFORMATION names
 * one by its security id, the $SII index maps the id to where the descriptor is in the $SDS stream.
 */
export class NtfsSecure {
  private index?: Promise<Map<number, { offset: number; length: number }>>;
  private readonly owners = new LruCache<number, Promise<string | undefined>>(4096);
  private readonly descriptors = new LruCache<number, Promise<Buffer | undefined>>(1024);

  constructor(private readonly mft: NtfsMft) {}

  private loadIndex(): Promise<Map<number, { offset: number; length: number }>> {
    this.index ??= (async () => {
      const file = await this.mft.file(SECURE_RECORD);
      const out = new Map<number, { offset: number; length: number }>();
      await visitIndex(this.mft, file, '$SII', 'NTFS $Secure', (b, at, length, keyLength) => {
        const dataOffset = b.readUInt16LE(at);
        const dataLength = b.readUInt16LE(at + 2);
        if (keyLength < 4 || dataLength < SDS_HEADER || dataOffset + dataLength > length) throw corrupt('NTFS $Secure has an $SII entry outside its node');
        const data = at + dataOffset;
        out.set(b.readUInt32LE(at + 16), { offset: b.readUInt32LE(data + 12) * 2 ** 32 + b.readUInt32LE(data + 8), length: b.readUInt32LE(data + 16) });
      });
      return out;
    })();
    return this.index;
  }

  /** The owner of the descriptor with security id `id`; `undefined` when $SII does not know it. */
  ownerOf(id: number): Promise<string | undefined> {
    return this.owners.getOrCreate(id, async () => {
      const sd = await this.descriptorOf(id);
      return sd && ownerOf(sd);
    });
  }

  /** The self-relative security descriptor with security id `id` (as Windows stores it); `undefined` when $SII does not know it. */
  descriptorOf(id: number): Promise<Buffer | undefined> {
    return this.descriptors.getOrCreate(id, () => this.loadDescriptor(id));
  }

  private async loadDescriptor(id: number): Promise<Buffer | undefined> {
    const where = (await this.loadIndex()).get(id);
    if (!where) return undefined;
    if (where.length < SDS_HEADER + 20 || where.length > SDS_HEADER + MAX_DESCRIPTOR) throw corrupt(`NTFS $Secure descriptor ${id} is ${where.length} bytes long`);
    const sds = attributeStream(this.mft, await this.mft.file(SECURE_RECORD), ATTR.DATA, '$SDS');
    if (!sds) throw corrupt('NTFS $Secure has no $SDS stream');
    const entry = await this.mft.read(sds, where.offset, where.offset + where.length);
    if (entry.length < where.length || entry.readUInt32LE(4) !== id) throw corrupt(`NTFS $Secure descriptor ${id} is not where $SII says`);
    return Buffer.from(entry.subarray(SDS_HEADER));
  }
}
