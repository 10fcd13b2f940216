import { OpenemError } from '../../errors.js';

/**
 * XDR (RFC 4506), the encoding of libvirt's RPC messages: big-endian 4-byte words, strings and opaques padded to
 * a multiple of 4, an optional value (`*T` in remote_protocol.x) as a 0/1 word and the value.
 */
export class XdrWriter {
  private readonly parts: Buffer[] = [];

  u32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    this.parts.push(b);
    return this;
  }

  i32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    this.parts.push(b);
    return this;
  }

  /** A fixed-length opaque (a UUID's 16 bytes). */
  fixed(bytes: Buffer): this {
    this.parts.push(bytes, Buffer.alloc((4 - (bytes.length % 4)) % 4));
    return this;
  }

  /** A string (remote_nonnull_string): its byte length, its UTF-8 bytes, padding. */
  string(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    return this.u32(bytes.length).fixed(bytes);
  }

  /** remote_string: a string that may be absent. */
  optionalString(s: string | undefined): this {
    return s === undefined ? this.u32(0) : this.u32(1).string(s);
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export class XdrReader {
  private at = 0;

  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new OpenemError('UNAVAILABLE', 'libvirt sent a message shorter than its fields');
  }

  u32(): number {
    this.need(4);
    const n = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return n;
  }

  i32(): number {
    this.need(4);
    const n = this.buf.readInt32BE(this.at);
    this.at += 4;
    return n;
  }

  fixed(length: number): Buffer {
    this.need(length);
    const b = this.buf.subarray(this.at, this.at + length);
    this.at += length + ((4 - (length % 4)) % 4);
    return b;
  }

  string(): string {
    return this.fixed(this.u32()).toString('utf8');
  }

  optionalString(): string | undefined {
    return this.u32() ? this.string() : undefined;
  }

  /** A variable-length array: its count, then `item` that many times. */
  array<T>(item: (r: XdrReader) => T): T[] {
    const n = this.u32();
    if (n > this.buf.length) throw new OpenemError('UNAVAILABLE', 'libvirt sent an array longer than its message');
    return Array.from({ length: n }, () => item(this));
  }
}
