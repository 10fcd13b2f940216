import { connect, type Socket } from 'node:net';
import { OpenemError } from '../../errors.js';

/**
 * A minimal NBD client (fixed newstyle handshake, NBD_OPT_GO, simple replies) over a Unix socket: what openem
 * needs to read and write a disk that qemu-nbd, qemu-storage-daemon or a libvirt pull-mode backup exports.
 * Several requests may be in flight; replies are matched by handle. Protocol: NetworkBlockDevice/nbd doc/proto.md.
 */
const NBDMAGIC = Buffer.from('NBDMAGIC');
const IHAVEOPT = 0x49484156454f5054n;
const OPT_REPLY_MAGIC = 0x3e889045565a9n;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;
const NBD_OPT_GO = 7;
const NBD_REP_ACK = 1;
const NBD_REP_INFO = 3;
const NBD_INFO_EXPORT = 0;
const CMD = { read: 0, write: 1, disconnect: 2, flush: 3, writeZeroes: 6 } as const;
/** Larger requests are split: servers refuse more than 32 MiB per request. */
const MAX_REQUEST = 8 * 1024 * 1024;

interface Pending {
  readLength: number;
  resolve(data: Buffer): void;
  reject(e: Error): void;
}

export class NbdClient {
  /** Received bytes not consumed yet, as they came: joined only once a whole header or reply is in. */
  private chunks: Buffer[] = [];
  private bufferedLength = 0;
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private readonly pending = new Map<bigint, Pending>();
  private nextHandle = 1n;
  private transmission = false;

  private constructor(private readonly socket: Socket, readonly exportName: string) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.bufferedLength += d.length;
      if (this.transmission) this.drainReplies();
      else this.waiter?.();
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      this.waiter?.();
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new OpenemError('UNAVAILABLE', `the NBD export '${exportName}' closed the connection`)));
  }

  /** Export size in bytes, known after the handshake. */
  size = 0;
  readOnly = true;

  static async connect(socketPath: string, exportName: string): Promise<NbdClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(socketPath);
      s.once('connect', () => resolve(s));
      s.once('error', (e) => reject(new OpenemError('UNAVAILABLE', `cannot reach the NBD export at ${socketPath}: ${e.message}`, { cause: e })));
    });
    const client = new NbdClient(socket, exportName);
    try {
      await client.handshake();
    } catch (e) {
      socket.destroy();
      throw e;
    }
    return client;
  }

  /** The first `n` buffered bytes (there must be as many), joined into one buffer. */
  private peek(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks, this.bufferedLength)];
    return this.chunks[0].subarray(0, n);
  }

  private consume(n: number): Buffer {
    const out = this.peek(n);
    this.chunks[0] = this.chunks[0].subarray(n);
    if (this.chunks[0].length === 0) this.chunks.shift();
    this.bufferedLength -= n;
    return out;
  }

  private async take(n: number): Promise<Buffer> {
    while (this.bufferedLength < n) {
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = undefined;
    }
    return n === 0 ? Buffer.alloc(0) : this.consume(n);
  }

  private async handshake(): Promise<void> {
    const greeting = await this.take(18);
    if (!greeting.subarray(0, 8).equals(NBDMAGIC) || greeting.readBigUInt64BE(8) !== IHAVEOPT) {
      throw new OpenemError('UNAVAILABLE', 'the NBD server does not speak the newstyle protocol');
    }
    const noZeroes = (greeting.readUInt16BE(16) & 2) !== 0;
    const flags = Buffer.alloc(4);
    flags.writeUInt32BE(1 | (noZeroes ? 2 : 0));
    const name = Buffer.from(this.exportName, 'utf8');
    const data = Buffer.alloc(4 + name.length + 2);
    data.writeUInt32BE(name.length, 0);
    name.copy(data, 4);
    const option = Buffer.alloc(16);
    option.writeBigUInt64BE(IHAVEOPT, 0);
    option.writeUInt32BE(NBD_OPT_GO, 8);
    option.writeUInt32BE(data.length, 12);
    this.socket.write(Buffer.concat([flags, option, data]));
    for (;;) {
      const head = await this.take(20);
      if (head.readBigUInt64BE(0) !== OPT_REPLY_MAGIC) throw new OpenemError('UNAVAILABLE', 'bad NBD option reply');
      const type = head.readUInt32BE(12);
      const body = await this.take(head.readUInt32BE(16));
      if (type === NBD_REP_ACK) break;
      if (type & 0x80000000) {
        throw new OpenemError('NOT_FOUND', `the NBD server refused export '${this.exportName}': ${body.subarray(0).toString('utf8') || `error ${type}`}`);
      }
      if (type === NBD_REP_INFO && body.readUInt16BE(0) === NBD_INFO_EXPORT) {
        this.size = Number(body.readBigUInt64BE(2));
        this.readOnly = (body.readUInt16BE(10) & 2) !== 0;
      }
    }
    this.transmission = true;
    this.drainReplies();
  }

  private drainReplies(): void {
    for (;;) {
      if (this.bufferedLength < 16) return;
      const header = this.peek(16);
      if (header.readUInt32BE(0) !== SIMPLE_REPLY_MAGIC) {
        this.socket.destroy(new OpenemError('UNAVAILABLE', 'bad NBD reply (structured replies are not negotiated)'));
        return;
      }
      const error = header.readUInt32BE(4);
      const handle = header.readBigUInt64BE(8);
      const p = this.pending.get(handle);
      const length = error === 0 ? (p?.readLength ?? 0) : 0;
      if (this.bufferedLength < 16 + length) return;
      const data = this.consume(16 + length).subarray(16);
      this.pending.delete(handle);
      if (!p) continue;
      if (error) p.reject(new OpenemError('INTERNAL', `NBD request on '${this.exportName}' failed with error ${error}`));
      else p.resolve(data);
    }
  }

  private request(type: number, offset: number, length: number, payload?: Buffer, readLength = 0): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const handle = this.nextHandle++;
    const head = Buffer.alloc(28);
    head.writeUInt32BE(REQUEST_MAGIC, 0);
    head.writeUInt16BE(0, 4);
    head.writeUInt16BE(type, 6);
    head.writeBigUInt64BE(handle, 8);
    head.writeBigUInt64BE(BigInt(offset), 16);
    head.writeUInt32BE(length, 24);
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(handle, { readLength, resolve, reject });
      this.socket.write(payload ? Buffer.concat([head, payload]) : head);
    });
  }

  /** Reads [offset, offset+length) (the caller keeps it within the export). */
  async read(offset: number, length: number): Promise<Buffer> {
    const parts: Promise<Buffer>[] = [];
    for (let at = 0; at < length; at += MAX_REQUEST) {
      const n = Math.min(MAX_REQUEST, length - at);
      parts.push(this.request(CMD.read, offset + at, n, undefined, n));
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(await Promise.all(parts));
  }

  async write(offset: number, data: Buffer): Promise<void> {
    const parts: Promise<Buffer>[] = [];
    for (let at = 0; at < data.length; at += MAX_REQUEST) {
      const chunk = data.subarray(at, Math.min(data.length, at + MAX_REQUEST));
      parts.push(this.request(CMD.write, offset + at, chunk.length, chunk));
    }
    await Promise.all(parts);
  }

  async writeZeroes(offset: number, length: number): Promise<void> {
    const parts: Promise<Buffer>[] = [];
    for (let at = 0; at < length; at += MAX_REQUEST) parts.push(this.request(CMD.writeZeroes, offset + at, Math.min(MAX_REQUEST, length - at)));
    await Promise.all(parts);
  }

  async flush(): Promise<void> {
    await this.request(CMD.flush, 0, 0);
  }

  /** Sends NBD_CMD_DISC and closes the socket; requests still in flight fail. */
  async close(): Promise<void> {
    if (!this.failure) {
      const head = Buffer.alloc(28);
      head.writeUInt32BE(REQUEST_MAGIC, 0);
      head.writeUInt16BE(CMD.disconnect, 6);
      this.socket.end(head);
    }
    this.failure ??= new OpenemError('UNAVAILABLE', `the NBD connection to '${this.exportName}' is closed`);
    this.socket.destroy();
  }
}
