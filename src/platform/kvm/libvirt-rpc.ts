import { connect, type Socket } from 'node:net';
import { notFound, OpenemError } from '../../errors.js';
import { MessageChunks } from './message-chunks.js';
import { XdrReader, XdrWriter } from './xdr.js';

/** libvirt's remote program (src/remote/remote_protocol.x) and the keepalive program (virkeepaliveprotocol.x). */
const REMOTE_PROGRAM = 0x20008086;
const REMOTE_PROTOCOL_VERSION = 1;
const KEEPALIVE_PROGRAM = 0x6b656570;
const KEEPALIVE_PING = 1;
const KEEPALIVE_PONG = 2;
/** virNetMessageType and virNetMessageStatus (src/rpc/virnetprotocol.x). */
const CALL = 0;
const REPLY = 1;
const MESSAGE = 2;
const STATUS_OK = 0;
const STATUS_ERROR = 1;
/** The 4-byte length word and the six-word header. */
const HEADER = 28;
/** virnetprotocol.x VIR_NET_MESSAGE_MAX: no message is larger. */
const MESSAGE_MAX = 32 * 1024 * 1024;
const PROC_CONNECT_OPEN = 1;
const PROC_CONNECT_CLOSE = 2;
/** virterror.h VIR_ERR_NO_DOMAIN. */
const ERR_NO_DOMAIN = 42;
/** How long a call waits for its answer unless it asks otherwise: what `virsh` was given (virsh.ts). */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

interface Pending {
  proc: number;
  resolve(body: Buffer): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
}

/**
 * One connection to a libvirt daemon's Unix socket speaking its RPC protocol: length-prefixed XDR messages, a
 * header naming program, procedure, type, serial and status, each reply matched to its call by serial. It does
 * what virsh's remote driver does for the calls openem makes, without starting a process per call: opened with
 * `connect.open` of the driver's URI, answered keepalive pings, closed with `connect.close`. Errors are libvirt's
 * own (`remote_error`): no such domain is NOT_FOUND; a connection that ends fails every call still waiting with
 * UNAVAILABLE. A call not answered within its timeout (60 s unless it asks for another) fails with UNAVAILABLE
 * naming its procedure and ends the connection, which failed every other call still waiting: a daemon that does not
 * answer is taken for wedged, and a later connection is a new one. The socket does not keep the process alive
 * while no call waits.
 */
export class LibvirtRpc {
  private serial = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly received = new MessageChunks();
  private ended: Error | undefined;

  private constructor(private readonly socket: Socket, private readonly where: string) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.end(e));
    socket.on('close', () => this.end(new Error('the connection closed')));
    socket.unref();
  }

  /**
   * Connects to `socketPath` and opens driver URI `name` (e.g. `qemu:///session`) on it; `timeoutMs` bounds the
   * connect and the `connect.open` call each.
   */
  static async open(socketPath: string, name: string, where = socketPath, options: { timeoutMs?: number } = {}): Promise<LibvirtRpc> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(socketPath);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new OpenemError('UNAVAILABLE', `libvirt at ${where} is unreachable: its socket did not take the connection within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeListener('error', reject);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(new OpenemError('UNAVAILABLE', `libvirt at ${where} is unreachable: ${e.message}`, { cause: e }));
      });
    });
    const rpc = new LibvirtRpc(socket, where);
    try {
      await rpc.call(PROC_CONNECT_OPEN, new XdrWriter().optionalString(name).u32(0).bytes(), { timeoutMs });
    } catch (e) {
      socket.destroy();
      throw e;
    }
    return rpc;
  }

  get isOpen(): boolean {
    return this.ended === undefined;
  }

  /**
   * Calls procedure `proc` of the remote program with XDR-encoded `args`; the reply's XDR body. Not answered within
   * `timeoutMs` (DEFAULT_CALL_TIMEOUT_MS), it fails with UNAVAILABLE and the connection ends.
   */
  call(proc: number, args: Buffer, options: { timeoutMs?: number } = {}): Promise<Buffer> {
    if (this.ended) return Promise.reject(this.unreachable(this.ended));
    const serial = this.serial++;
    const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    return new Promise<Buffer>((resolve, reject) => {
      const p: Pending = { proc, resolve, reject };
      p.timer = setTimeout(() => {
        const late = new OpenemError('UNAVAILABLE', `libvirt at ${this.where} did not answer procedure ${proc} within ${timeoutMs} ms`);
        this.settle(serial, late);
        this.socket.destroy();
        this.end(new Error(`the connection was reset: procedure ${proc} was not answered within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(serial, p);
      this.socket.ref();
      this.socket.write(message(REMOTE_PROGRAM, proc, CALL, serial, args));
    });
  }

  /** `connect.close`, then the socket ends. */
  async close(): Promise<void> {
    if (this.ended) return;
    await this.call(PROC_CONNECT_CLOSE, Buffer.alloc(0), { timeoutMs: 5000 }).catch(() => undefined);
    this.socket.end();
    this.end(new Error('closed by openem'));
  }

  private onData(d: Buffer): void {
    this.received.push(d);
    for (let length = this.received.nextLength(); length !== undefined; length = this.received.nextLength()) {
      if (length < HEADER || length > MESSAGE_MAX) {
        this.socket.destroy();
        this.end(new Error(`a message of ${length} bytes is not libvirt's`));
        return;
      }
      const m = this.received.take(length);
      if (!m) return;
      this.onMessage(m);
    }
  }

  private onMessage(m: Buffer): void {
    const program = m.readUInt32BE(4);
    const proc = m.readInt32BE(12);
    const type = m.readInt32BE(16);
    const serial = m.readUInt32BE(20);
    const status = m.readInt32BE(24);
    const body = m.subarray(HEADER);
    if (program === KEEPALIVE_PROGRAM) {
      if (proc === KEEPALIVE_PING) this.socket.write(message(KEEPALIVE_PROGRAM, KEEPALIVE_PONG, MESSAGE, 0, Buffer.alloc(0)));
      return;
    }
    if (program !== REMOTE_PROGRAM || type !== REPLY || !this.pending.has(serial)) return; // events: none asked for
    if (status === STATUS_OK) this.settle(serial, undefined, body);
    else if (status === STATUS_ERROR) this.settle(serial, remoteError(body, this.pending.get(serial)!.proc));
    else this.settle(serial, new OpenemError('UNAVAILABLE', `libvirt answered procedure ${proc} with status ${status}, which openem does not take`));
  }

  private settle(serial: number, error: Error | undefined, body?: Buffer): void {
    const p = this.pending.get(serial);
    if (!p) return;
    this.pending.delete(serial);
    if (p.timer) clearTimeout(p.timer);
    if (this.pending.size === 0) this.socket.unref();
    if (error) p.reject(error);
    else p.resolve(body!);
  }

  private unreachable(cause: Error): OpenemError {
    return new OpenemError('UNAVAILABLE', `libvirt at ${this.where} is unreachable: ${cause.message}`, { cause });
  }

  private end(cause: Error): void {
    if (this.ended) return;
    this.ended = cause;
    for (const serial of [...this.pending.keys()]) this.settle(serial, this.unreachable(cause));
  }
}

function message(program: number, proc: number, type: number, serial: number, body: Buffer): Buffer {
  const head = new XdrWriter().u32(HEADER + body.length).u32(program).u32(REMOTE_PROTOCOL_VERSION).i32(proc).i32(type).u32(serial).i32(STATUS_OK).bytes();
  return Buffer.concat([head, body]);
}

/** remote_error's code and message (the fields after them are not needed). */
function remoteError(body: Buffer, proc: number): OpenemError {
  let code = -1;
  let text = 'no message';
  try {
    const r = new XdrReader(body);
    code = r.i32();
    r.i32();
    text = r.optionalString() ?? text;
  } catch {
    // a short error body: its code and message stay unknown
  }
  if (code === ERR_NO_DOMAIN) return notFound(`libvirt has no such domain: ${text}`);
  return new OpenemError('INTERNAL', `libvirt procedure ${proc} failed: ${text}`);
}
