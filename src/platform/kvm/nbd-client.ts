import { connect, type Socket } from 'node:net';
import { OpenemError } from '../../errors.js';
import { negotiate } from './nbd-handshake.js';
import { describeWholeExport, type StatusExtent } from './nbd-block-status.js';
import { NbdReceived } from './nbd-received.js';

/**
 * A minimal NBD client (fixed newstyle handshake, NBD_OPT_GO, simple replies) over a Unix socket: what openem
 * needs to read and write a disk that qemu-nbd, qemu-storage-daemon or a libvirt pull-mode backup exports.
 * Several requests may be in flight; replies are matched by handle. Asked for metadata contexts (`base:allocation`,
 * `qemu:dirty-bitmap:<name>`), it also negotiates structured replies and answers block status on the same
 * connection, so no nbdinfo is started to learn where data or changes are. Protocol: NetworkBlockDevice/nbd
 * doc/proto.md.
 */
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;
const STRUCTURED_REPLY_MAGIC = 0x668e33ef;
const CMD = { read: 0, write: 1, disconnect: 2, flush: 3, writeZeroes: 6, blockStatus: 7 } as const;
/** NBD_CMD_FLAG_DF: the read's data comes back in one chunk, so the server does not look for holes in it first. */
const CMD_FLAG_DF = 4;
const REPLY_FLAG_DONE = 1;
const REPLY = { none: 0, offsetData: 1, offsetHole: 2, blockStatus: 5 } as const;
/** Larger requests are split: servers refuse more than 32 MiB per request. */
const MAX_REQUEST = 8 * 1024 * 1024;
/**
 * What the socket reads into when no read payload is being received (headers, block status, the first bytes of a
 * payload that came with its header); a payload's remaining bytes are read straight into its target.
 */
const SCRATCH = 64 * 1024;

interface Pending {
  readLength: number;
  /** Where a structured read's data chunks land, and the request's offset they are placed by. */
  target?: Buffer;
  /** The caller's buffer a simple reply's data is received into. */
  into?: Buffer;
  offset: number;
  /** A block status request's context and its descriptors: [length, flags] pairs as they came. */
  status?: { id: number; pairs: number[] };
  error?: Error;
  resolve(data: Buffer): void;
  reject(e: Error): void;
}

export class NbdClient {
  /** Received bytes not consumed yet, as they came: joined only once a whole header or reply is in. */
  private readonly received = new NbdReceived();
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private readonly pending = new Map<bigint, Pending>();
  /** The read payload being received: its bytes go to `target` [at, end) as they come (nowhere when undefined). */
  private sink: { target: Buffer | undefined; at: number; end: number; done(): void } | undefined;
  private nextHandle = 1n;
  private transmission = false;
  private structured = false;
  /** Metadata contexts the server agreed to, by name: their ids in block status replies. */
  private readonly contexts = new Map<string, number>();

  private readonly scratch = Buffer.from(new ArrayBuffer(SCRATCH));
  private readonly socket: Socket;

  private constructor(
    socketPath: string,
    readonly exportName: string,
  ) {
    // The socket reads into the buffer nextReadBuffer picks, so a read's payload is copied by the kernel into the
    // caller's buffer and by nothing else (no 'data' chunks allocated, joined and copied again).
    this.socket = connect({ path: socketPath, onread: { buffer: () => this.nextReadBuffer(), callback: (n, buf) => (this.onRead(n, buf), true) } });
    const fail = (e: Error) => {
      this.failure ??= e;
      this.waiter?.();
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new OpenemError('UNAVAILABLE', `the NBD export '${exportName}' closed the connection`)));
  }

  /** The payload being received, from where it stands, when nothing received before it is still buffered; else the scratch buffer. */
  private nextReadBuffer(): Buffer {
    const sink = this.sink;
    if (sink?.target && sink.at < sink.end && this.received.length === 0) return sink.target.subarray(sink.at, sink.end);
    return this.scratch;
  }

  private onRead(n: number, buf: Uint8Array): void {
    if (buf !== this.scratch) {
      // Read straight into the payload being received (nextReadBuffer gave no other buffer).
      const sink = this.sink!;
      sink.at += n;
      if (sink.at >= sink.end) {
        this.sink = undefined;
        sink.done();
        this.drainSafely();
      }
      return;
    }
    if (!this.transmission) {
      // The handshake keeps what it takes across awaits: it gets copies.
      this.received.push(Buffer.from(this.scratch.subarray(0, n)));
      this.waiter?.();
      return;
    }
    // Replies are parsed from the scratch buffer where they lie; what is left is copied before the next read reuses it.
    this.received.push(this.scratch.subarray(0, n));
    try {
      this.drainSafely();
    } finally {
      this.received.detach(this.scratch.buffer);
    }
  }

  /** A reply that cannot be taken (a hole or status chunk that does not fit its request) ends the connection, not the process. */
  private drainSafely(): void {
    try {
      this.drainReplies();
    } catch (e) {
      this.socket.destroy(new OpenemError('UNAVAILABLE', `bad NBD reply from '${this.exportName}': ${e instanceof Error ? e.message : String(e)}`));
    }
  }

  /** Export size in bytes, known after the handshake. */
  size = 0;
  readOnly = true;

  /** `metaContexts`: the contexts `blockStatus` may be asked for (structured replies are negotiated then). */
  static async connect(socketPath: string, exportName: string, options: { metaContexts?: readonly string[] } = {}): Promise<NbdClient> {
    const client = new NbdClient(socketPath, exportName);
    const socket = client.socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', (e) => reject(new OpenemError('UNAVAILABLE', `cannot reach the NBD export at ${socketPath}: ${e.message}`, { cause: e })));
    });
    try {
      const info = await negotiate({ take: (n) => client.take(n), write: (d) => socket.write(d) }, exportName, options.metaContexts ?? []);
      client.size = info.size;
      client.readOnly = info.readOnly;
      client.structured = info.structured;
      for (const [name, id] of info.contexts) client.contexts.set(name, id);
      client.transmission = true;
      client.drainReplies();
    } catch (e) {
      socket.destroy();
      throw e;
    }
    return client;
  }

  private async take(n: number): Promise<Buffer> {
    while (this.received.length < n) {
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = undefined;
    }
    return n === 0 ? Buffer.alloc(0) : this.received.consume(n);
  }

  /**
   * Moves buffered bytes of the read payload being received straight into its target (one copy, as the socket
   * delivered them); true once the payload is complete.
   */
  private fillSink(): boolean {
    const sink = this.sink!;
    sink.at = this.received.moveInto(sink.target, sink.at, sink.end);
    if (sink.at < sink.end) return false;
    this.sink = undefined;
    sink.done();
    return true;
  }

  private drainReplies(): void {
    for (;;) {
      if (this.sink) {
        if (!this.fillSink()) return;
        continue;
      }
      if (this.received.length < 16) return;
      const magic = this.received.peek(4).readUInt32BE(0);
      if (magic === STRUCTURED_REPLY_MAGIC && this.structured) {
        if (!this.drainChunk()) return;
        continue;
      }
      if (magic !== SIMPLE_REPLY_MAGIC) {
        this.socket.destroy(new OpenemError('UNAVAILABLE', `bad NBD reply magic ${magic.toString(16)}`));
        return;
      }
      const header = this.received.consume(16);
      const error = header.readUInt32BE(4);
      const handle = header.readBigUInt64BE(8);
      const p = this.pending.get(handle);
      if (!p) continue;
      if (error) {
        this.pending.delete(handle);
        p.reject(new OpenemError('INTERNAL', `NBD request on '${this.exportName}' failed with error ${error}`));
        continue;
      }
      const target = p.readLength > 0 ? (p.into ?? p.target ?? Buffer.allocUnsafe(p.readLength)) : Buffer.alloc(0);
      this.sink = {
        target,
        at: 0,
        end: target.length,
        done: () => {
          this.pending.delete(handle);
          p.resolve(target);
        },
      };
    }
  }

  /** One structured reply chunk, if its header is in: read data (received into its target as it comes), a hole, block status, an error, or the end. */
  private drainChunk(): boolean {
    if (this.received.length < 20) return false;
    const header = this.received.peek(20);
    const flags = header.readUInt16BE(4);
    const type = header.readUInt16BE(6);
    const handle = header.readBigUInt64BE(8);
    const length = header.readUInt32BE(16);
    const p = this.pending.get(handle);
    if (type === REPLY.offsetData && length >= 8) {
      if (this.received.length < 28) return false;
      const from = Number(this.received.consume(28).readBigUInt64BE(20));
      const dataLength = length - 8;
      const at = p?.target ? from - p.offset : -1;
      const fits = p?.target !== undefined && at >= 0 && at + dataLength <= p.target.length;
      if (p && !fits) p.error ??= new OpenemError('INTERNAL', `NBD server sent data at ${from} outside the read of '${this.exportName}' at ${p.offset}`);
      this.sink = { target: fits ? p!.target : undefined, at: fits ? at : 0, end: (fits ? at : 0) + dataLength, done: () => this.chunkDone(flags, handle, p) };
      return true;
    }
    if (this.received.length < 20 + length) return false;
    const body = this.received.consume(20 + length).subarray(20);
    if (p) {
      if (type === REPLY.offsetHole && p.target && body.length >= 12) {
        // The target may be a caller's reused buffer: a hole is written as zeros.
        const at = Number(body.readBigUInt64BE(0)) - p.offset;
        p.target.fill(0, at, at + body.readUInt32BE(8));
      } else if (type === REPLY.blockStatus && p.status && body.readUInt32BE(0) === p.status.id) {
        for (let at = 4; at + 8 <= body.length; at += 8) p.status.pairs.push(body.readUInt32BE(at), body.readUInt32BE(at + 4));
      } else if (type & 0x8000) {
        const message = body.length >= 6 ? body.subarray(6, 6 + body.readUInt16BE(4)).toString('utf8') : '';
        p.error ??= new OpenemError('INTERNAL', `NBD request on '${this.exportName}' failed with error ${body.length >= 4 ? body.readUInt32BE(0) : '?'}${message ? `: ${message}` : ''}`);
      }
    }
    this.chunkDone(flags, handle, p);
    return true;
  }

  /** NONE: nothing but the end. A request ends with the chunk that has the DONE flag. */
  private chunkDone(flags: number, handle: bigint, p: Pending | undefined): void {
    if (!p || !(flags & REPLY_FLAG_DONE)) return;
    this.pending.delete(handle);
    if (p.error) p.reject(p.error);
    else p.resolve(p.target ?? Buffer.alloc(0));
  }

  private request(
    type: number,
    offset: number,
    length: number,
    payload?: Buffer,
    readLength = 0,
    status?: { id: number; pairs: number[] },
    into?: Buffer,
  ): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const handle = this.nextHandle++;
    const head = Buffer.alloc(28);
    head.writeUInt32BE(REQUEST_MAGIC, 0);
    // A structured read is asked not to be fragmented: QEMU then reads the range as a whole instead of asking its
    // block layer where holes are (which, on a backup job's fleecing view, walks the copy-before-write layers).
    head.writeUInt16BE(this.structured && type === CMD.read ? CMD_FLAG_DF : 0, 4);
    head.writeUInt16BE(type, 6);
    head.writeBigUInt64BE(handle, 8);
    head.writeBigUInt64BE(BigInt(offset), 16);
    head.writeUInt32BE(length, 24);
    return new Promise<Buffer>((resolve, reject) => {
      // With structured replies, a read's data comes in chunks placed by offset (holes stay zero).
      const target = this.structured && type === CMD.read ? (into ?? Buffer.alloc(readLength)) : undefined;
      const simpleInto = !this.structured && into ? { into } : {};
      this.pending.set(handle, { readLength, offset, resolve, reject, ...(target ? { target } : {}), ...simpleInto, ...(status ? { status } : {}) });
      // The payload is written as it is, after its header: no copy of it.
      if (payload) {
        this.socket.cork();
        this.socket.write(head);
        this.socket.write(payload);
        process.nextTick(() => this.socket.uncork());
      } else this.socket.write(head);
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

  /** Reads [offset, offset+target.length) straight into `target` (no buffer of its own for structured replies). */
  async readInto(offset: number, target: Buffer): Promise<void> {
    const parts: Promise<Buffer>[] = [];
    for (let at = 0; at < target.length; at += MAX_REQUEST) {
      const n = Math.min(MAX_REQUEST, target.length - at);
      parts.push(this.request(CMD.read, offset + at, n, undefined, n, undefined, target.subarray(at, at + n)));
    }
    await Promise.all(parts);
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

  /**
   * The extents of metadata context `context` (one the connection was opened with) over the whole export, in
   * order: the server may describe less than asked at a time, so it is asked again from where it stopped.
   */
  async blockStatus(context: string): Promise<StatusExtent[]> {
    const id = this.contexts.get(context);
    if (id === undefined) throw new OpenemError('UNAVAILABLE', `the NBD export '${this.exportName}' offers no metadata context ${context}`);
    // Every context the connection has is described; only this one's descriptors are kept.
    return describeWholeExport(this.size, async (offset, length) => {
      const status = { id, pairs: [] as number[] };
      await this.request(CMD.blockStatus, offset, length, undefined, 0, status);
      return status.pairs;
    }, `the NBD export '${this.exportName}' for ${context}`);
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
